# Catching XetPs's errors by type in pwsh: every exception a script meets is a type of the XetPs namespace that
# PowerShell resolves (XetPs.Errors loads in the default load context beside the cmdlets; the engine, in its own,
# throws that very type). Needs a Hub; see the top of Save-XetFile.Tests.ps1 for starting the emulator.
# CI runs this file in pwsh 7.6 under Pester 5.7.1 (tests/Unit/Module/PesterSpecTests.cs).

BeforeAll {
    if (-not (Get-Module XetPs)) {
        $manifest = if ($env:XETPS_MODULE_PATH) { $env:XETPS_MODULE_PATH } else {
            [System.IO.Path]::Combine($PSScriptRoot, '..', '..', 'artifacts', 'module', 'XetPs', 'XetPs.psd1')
        }
        Import-Module $manifest -Force -ErrorAction Stop
    }
    $endpoint = $env:XETPS_TEST_ENDPOINT
    if (-not $endpoint) { throw 'XETPS_TEST_ENDPOINT is not set: start the emulator (see the top of Save-XetFile.Tests.ps1) and set it to its URL.' }
    $repo = if ($env:XETPS_TEST_REPO) { $env:XETPS_TEST_REPO } else { 'xetps/sample' }
    # A plain (non-Xet) file at the top of the repo and a Xet file, as listed.
    $listing = @(Get-XetFileList -Repo $repo -Recurse -Endpoint $endpoint)
    $plain = @($listing | Where-Object { -not $_.IsXet -and $_.GitOid -and $_.Path -notlike '*/*' })[0]
    $xet = @($listing | Where-Object IsXet)[0]
}

Describe 'XetPs exceptions caught by type' {
    BeforeEach {
        $destination = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'xetps-pester-' + [Guid]::NewGuid().ToString('n'))
        $null = [System.IO.Directory]::CreateDirectory($destination)
        $caught = $null
    }
    AfterEach { [System.IO.Directory]::Delete($destination, $true) }

    It 'catch [XetPs.XetFileNotFoundException] catches a missing file' {
        try { Save-XetFile -Repo $repo -Path 'no/such/file.bin' -Destination $destination -Endpoint $endpoint }
        catch [XetPs.XetFileNotFoundException] { $caught = $_ }
        $caught.Exception -is [XetPs.XetFileNotFoundException] | Should -BeTrue
        $caught.FullyQualifiedErrorId | Should -Be 'XetFileNotFound,XetPs.Commands.SaveXetFileCommand'
        $caught.Exception.RepoPath | Should -Be 'no/such/file.bin'
    }

    It 'catch [XetPs.XetAuthenticationException] catches a token the Hub refuses' {
        $wrong = ConvertTo-SecureString ('hf_' + 'x' * 34) -AsPlainText -Force
        try { Save-XetFile -Repo $repo -Path $plain.Path -Destination $destination -Endpoint $endpoint -Token $wrong }
        catch [XetPs.XetAuthenticationException] { $caught = $_ }
        $caught.Exception -is [XetPs.XetAuthenticationException] | Should -BeTrue
        $caught.FullyQualifiedErrorId | Should -Be 'XetAuthenticationFailed,XetPs.Commands.SaveXetFileCommand'
        $caught.Exception.StatusCode | Should -Be 401
    }

    It 'catch [XetPs.XetHashMismatchException] catches bytes that do not match the listed hash' {
        # The listed file with a git blob id its bytes do not have: the download is checked against it and refused.
        $wrongHash = [pscustomobject]@{ Repo = $plain.Repo; Revision = $plain.Revision; Path = $plain.Path; Size = $plain.Size; IsXet = $false; GitOid = '0' * 40 }
        try { $wrongHash | Save-XetFile -Destination $destination -Endpoint $endpoint }
        catch [XetPs.XetHashMismatchException] { $caught = $_ }
        $caught.Exception -is [XetPs.XetHashMismatchException] | Should -BeTrue
        $caught.FullyQualifiedErrorId | Should -Be 'XetHashMismatch,XetPs.Commands.SaveXetFileCommand'
        [System.IO.Directory]::GetFiles($destination) | Should -HaveCount 0
    }

    It 'catch [XetPs.XetDestinationExistsException] catches a different file in the way' {
        [System.IO.File]::WriteAllText([System.IO.Path]::Combine($destination, $plain.Path), 'not the repository file')
        try { Save-XetFile -Repo $repo -Path $plain.Path -Destination $destination -Endpoint $endpoint }
        catch [XetPs.XetDestinationExistsException] { $caught = $_ }
        $caught.Exception -is [XetPs.XetDestinationExistsException] | Should -BeTrue
        $caught.FullyQualifiedErrorId | Should -Be 'XetDestinationExists,XetPs.Commands.SaveXetFileCommand'
    }

    It 'catch [XetPs.UnsafeRepoPathException] catches a path that would land outside the destination' {
        try { Save-XetFile -Repo $repo -Path '../outside.bin' -Destination $destination -Endpoint $endpoint }
        catch [XetPs.UnsafeRepoPathException] { $caught = $_ }
        $caught.Exception -is [XetPs.UnsafeRepoPathException] | Should -BeTrue
        $caught.FullyQualifiedErrorId | Should -Be 'XetUnsafePath,XetPs.Commands.SaveXetFileCommand'
    }

    It 'catch [XetPs.XetInsufficientDiskSpaceException] catches a file the disk cannot hold' {
        $huge = [pscustomobject]@{ Repo = $xet.Repo; Revision = $xet.Revision; Path = $xet.Path; Size = 1PB; IsXet = $true; XetHash = $xet.XetHash }
        try { $huge | Save-XetFile -Destination $destination -Endpoint $endpoint }
        catch [XetPs.XetInsufficientDiskSpaceException] { $caught = $_ }
        $caught.Exception -is [XetPs.XetInsufficientDiskSpaceException] | Should -BeTrue
        $caught.FullyQualifiedErrorId | Should -Be 'XetInsufficientDiskSpace,XetPs.Commands.SaveXetFileCommand'
    }

    It 'catch [XetPs.XetOfflineException] catches a download with HF_HUB_OFFLINE set' {
        $env:HF_HUB_OFFLINE = '1'
        try { Save-XetFile -Repo $repo -Path $plain.Path -Destination $destination -Endpoint $endpoint }
        catch [XetPs.XetOfflineException] { $caught = $_ }
        finally { Remove-Item Env:HF_HUB_OFFLINE }
        $caught.Exception -is [XetPs.XetOfflineException] | Should -BeTrue
        $caught.FullyQualifiedErrorId | Should -Be 'XetOffline,XetPs.Commands.SaveXetFileCommand'
    }

    It 'catch of a framework base type still catches (IOException for a hash mismatch)' {
        $wrongHash = [pscustomobject]@{ Repo = $plain.Repo; Revision = $plain.Revision; Path = $plain.Path; Size = $plain.Size; IsXet = $false; GitOid = '0' * 40 }
        try { $wrongHash | Save-XetFile -Destination $destination -Endpoint $endpoint }
        catch [System.IO.IOException] { $caught = $_ }
        $caught.Exception | Should -BeOfType ([XetPs.XetHashMismatchException])
    }
}

Describe 'XetPs exception types' {
    It 'every exception type is named by PowerShell as the very type the module loaded' {
        $types = @([XetPs.XetFileNotFoundException].Assembly.GetExportedTypes() | Where-Object { [Exception].IsAssignableFrom($_) })
        $types.Count | Should -BeGreaterThan 10
        foreach ($type in $types) {
            $type.Namespace | Should -Be 'XetPs'
            ($type.FullName -as [type]) | Should -Be $type
        }
    }

    It 'lives in the default load context, apart from the engine' {
        # The listing in BeforeAll has loaded the engine.
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext([XetPs.XetFileNotFoundException].Assembly).Name | Should -Be 'Default'
        $engine = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'XetPs.Engine' })
        $engine | Should -HaveCount 1
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine[0]).Name | Should -Be 'XetPs.Dependencies'
    }
}
