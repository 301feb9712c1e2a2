# Loads the cmdlet assembly built for the running PowerShell: the net8.0 build on PowerShell 7.4 or later (its
# engine and dependencies load into a private AssemblyLoadContext), the netstandard2.0 build everywhere else
# (Windows PowerShell 5.1 on .NET Framework 4.7.2+, PowerShell 7.0-7.3). Same pattern as PSScriptAnalyzer's loader.
$version = $PSVersionTable.PSVersion
$edition = if ($PSEdition -eq 'Core' -and ($version.Major -gt 7 -or ($version.Major -eq 7 -and $version.Minor -ge 4))) { 'core' } else { 'desktop' }
# [IO.Path]::Combine rather than Join-Path: the module must also load in hosts with only the core cmdlets.
$binaryModule = Import-Module -Name ([System.IO.Path]::Combine($PSScriptRoot, $edition, 'XetPs.dll')) -PassThru -ErrorAction Stop

# Removing XetPs removes the binary module with it, so a fresh Import-Module -Force reloads cleanly.
$ExecutionContext.SessionState.Module.OnRemove = { Remove-Module -ModuleInfo $binaryModule -ErrorAction SilentlyContinue }.GetNewClosure()

Export-ModuleMember -Cmdlet 'Get-XetFileList', 'Save-XetFile', 'Test-XetFile', 'Get-XetCache', 'Remove-XetCache'
