# The module as a user meets it before any download: manifest, commands, help, completion, and parameters that are
# refused before any request. Needs no network. Runs under Pester 5 (Invoke-Pester ./tests/Pester); CI runs it in
# pwsh 7.6 under Pester 5.7.1 (tests/Unit/Module/PesterSpecTests.cs).

BeforeAll {
    if (-not (Get-Module XetPs)) {
        $manifest = if ($env:XETPS_MODULE_PATH) { $env:XETPS_MODULE_PATH } else {
            [System.IO.Path]::Combine($PSScriptRoot, '..', '..', 'artifacts', 'module', 'XetPs', 'XetPs.psd1')
        }
        Import-Module $manifest -Force -ErrorAction Stop
    }
    $moduleBase = (Get-Module XetPs).ModuleBase
    # Nothing listens on the discard port: a cmdlet that reached the network would fail with XetDownloadFailed.
    $unreachable = 'http://127.0.0.1:9'
    $scratch = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'xetps-pester-' + [Guid]::NewGuid().ToString('n'))
    $null = [System.IO.Directory]::CreateDirectory($scratch)
}

AfterAll {
    if ($scratch -and [System.IO.Directory]::Exists($scratch)) { [System.IO.Directory]::Delete($scratch, $true) }
}

Describe 'The XetPs manifest' {
    It 'passes Test-ModuleManifest' {
        $info = Test-ModuleManifest -Path ([System.IO.Path]::Combine($moduleBase, 'XetPs.psd1')) -ErrorAction Stop
        $info.Name | Should -Be 'XetPs'
    }

    It 'declares both editions and Windows PowerShell 5.1 as the minimum' {
        $info = Test-ModuleManifest -Path ([System.IO.Path]::Combine($moduleBase, 'XetPs.psd1'))
        $info.CompatiblePSEditions | Should -Contain 'Desktop'
        $info.CompatiblePSEditions | Should -Contain 'Core'
        $info.PowerShellVersion | Should -Be ([version]'5.1')
    }

    It 'exports exactly its cmdlets' {
        $names = @(Get-Command -Module XetPs | ForEach-Object Name | Sort-Object)
        $names | Should -Be @('Get-XetCache', 'Get-XetFileList', 'Remove-XetCache', 'Save-XetFile', 'Test-XetFile')
    }
}

Describe 'Help' {
    It 'has a synopsis and examples for <Name>' -ForEach @(@{ Name = 'Get-XetFileList' }, @{ Name = 'Save-XetFile' }, @{ Name = 'Test-XetFile' }, @{ Name = 'Get-XetCache' }, @{ Name = 'Remove-XetCache' }) {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match "^\s*$Name"
        @($help.Examples.Example).Count | Should -BeGreaterThan 3
    }

    It 'describes every parameter of Save-XetFile' {
        $help = Get-Help Save-XetFile -Full
        foreach ($name in 'Repo', 'Path', 'LiteralPath', 'ContinueOnError', 'Destination', 'Revision', 'RepoType', 'Force', 'PassThru', 'Token', 'Endpoint', 'ThrottleLimit') {
            $parameter = @($help.Parameters.Parameter | Where-Object Name -eq $name)
            $parameter | Should -HaveCount 1
            "$($parameter[0].Description.Text)" | Should -Not -BeNullOrEmpty
        }
    }

    It 'has an about_XetPs topic' {
        $about = Get-Help about_XetPs
        "$about" | Should -Match 'HF_TOKEN'
    }
}

Describe 'Tab completion' {
    It 'completes -RepoType without the network' {
        $line = 'Save-XetFile -RepoType Da'
        $completions = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
        @($completions | ForEach-Object CompletionText) | Should -Contain 'Dataset'
    }
}

Describe 'Parameters refused before any request' {
    It 'refuses a malformed repository name' {
        $err = { Save-XetFile -Repo 'not a repo' -Path x.bin -Destination $scratch -Endpoint $unreachable } |
            Should -Throw -ErrorId 'XetInvalidArgument,XetPs.Commands.SaveXetFileCommand' -PassThru
        $err.Exception | Should -BeOfType ([System.ArgumentException])
    }

    It 'refuses an endpoint that is not http or https' {
        { Get-XetFileList -Repo org/name -Endpoint 'ftp://example.org' } | Should -Throw -ErrorId 'XetInvalidArgument,XetPs.Commands.GetXetFileListCommand'
    }

    It 'refuses a repo path that would climb out of -Destination, and writes nothing' {
        $err = { Save-XetFile -Repo org/name -Path '../escape.txt' -Destination $scratch -Endpoint $unreachable } |
            Should -Throw -ErrorId 'XetUnsafePath,XetPs.Commands.SaveXetFileCommand' -PassThru
        $err.TargetObject | Should -Be '../escape.txt'
        [System.IO.File]::Exists([System.IO.Path]::Combine($scratch, '..', 'escape.txt')) | Should -BeFalse
    }

    It 'refuses a proxy URL that carries a password, without repeating it' {
        $err = { Get-XetFileList -Repo org/name -Endpoint $unreachable -Proxy 'http://alice:pr0xy-s3cret@127.0.0.1:9' } |
            Should -Throw -ErrorId 'XetInvalidArgument,XetPs.Commands.GetXetFileListCommand' -PassThru
        $err.Exception.Message | Should -Match 'ProxyCredential'
        $err.Exception.Message | Should -Not -Match 'pr0xy-s3cret'
    }

    It 'refuses -Proxy together with -NoProxy' {
        { Save-XetFile -Repo org/name -Path x.bin -Destination $scratch -Endpoint $unreachable -Proxy 'http://127.0.0.1:9' -NoProxy } |
            Should -Throw -ErrorId 'XetInvalidArgument,XetPs.Commands.SaveXetFileCommand'
    }

    It 'refuses a ThrottleLimit of 0' {
        { Save-XetFile -Repo org/name -Path x.bin -ThrottleLimit 0 -Endpoint $unreachable } | Should -Throw -ErrorId 'ParameterArgumentValidationError,XetPs.Commands.SaveXetFileCommand'
    }

    It 'refuses a destination that is a file' {
        $file = [System.IO.Path]::Combine($scratch, 'a-file.txt')
        [System.IO.File]::WriteAllText($file, 'x')
        { Save-XetFile -Repo org/name -Path x.bin -Destination $file -Endpoint $unreachable } | Should -Throw -ErrorId 'XetInvalidArgument,XetPs.Commands.SaveXetFileCommand'
    }
}
