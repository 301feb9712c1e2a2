#
# Module manifest for XetPs: download files from Hugging Face Hub repositories stored in Xet.
# The root module (XetPs.psm1) imports core/XetPs.dll on PowerShell 7.4+ and desktop/XetPs.dll elsewhere
# (Windows PowerShell 5.1, older PowerShell 7).
#
@{
    RootModule           = 'XetPs.psm1'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Desktop', 'Core')
    GUID                 = '623abf06-5927-4ed0-8d56-c7ee12e5f5a0'
    Author               = 'XetPs contributors'
    CompanyName          = 'XetPs contributors'
    Copyright            = '(c) XetPs contributors. MIT License.'
    Description          = 'Downloads files from Hugging Face Hub repositories. Files stored in Xet are rebuilt from content-defined chunks in parallel, within a fixed memory budget, verified against their Xet hash, and resumed after interruption.'
    PowerShellVersion    = '5.1'
    # 5.1 needs .NET Framework 4.7.2 for the netstandard2.0 build.
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess     = @('XetPs.format.ps1xml')
    CmdletsToExport      = @('Get-XetFileList', 'Save-XetFile', 'Test-XetFile', 'Get-XetCache', 'Remove-XetCache')
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    FileList             = @('XetPs.psd1', 'XetPs.psm1', 'XetPs.format.ps1xml', 'en-US/about_XetPs.help.txt', 'en-US/XetPs.dll-Help.xml')
    PrivateData          = @{
        PSData = @{
            Tags         = @('HuggingFace', 'Hub', 'Xet', 'Download', 'Models', 'Datasets', 'MachineLearning', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = 'First release: Get-XetFileList and Save-XetFile (into a folder or the Hugging Face cache), Test-XetFile (the plan of a download), Get-XetCache and Remove-XetCache.'
        }
    }
}
