# Get-XetFileList and Save-XetFile against a Hub: by default the emulator's sample repo. Start one first:
#   dotnet run --project emulator/XetPs.Emulator -c Release -- --sample     (prints its URL on the first line)
#   $env:XETPS_TEST_ENDPOINT = '<that URL>'; Invoke-Pester ./tests/Pester
# (./build.ps1 -Pester does all of it.) Pester 5 where only NuGet is reachable: dotnet restore tests/Unit/XetPs.Tests.csproj,
# then Import-Module ~/.nuget/packages/pester/5.7.1/tools/Pester.psd1 (the package's tools/ folder is the module).
# CI starts the emulator in-process and runs this file in pwsh 7.6 under Pester 5.7.1 (tests/Unit/Module/PesterSpecTests.cs).

BeforeAll {
    if (-not (Get-Module XetPs)) {
        $manifest = if ($env:XETPS_MODULE_PATH) { $env:XETPS_MODULE_PATH } else {
            [System.IO.Path]::Combine($PSScriptRoot, '..', '..', 'artifacts', 'module', 'XetPs', 'XetPs.psd1')
        }
        Import-Module $manifest -Force -ErrorAction Stop
    }
    $endpoint = $env:XETPS_TEST_ENDPOINT
    if (-not $endpoint) { throw 'XETPS_TEST_ENDPOINT is not set: start the emulator (see the top of this file) and set it to its URL.' }
    $repo = if ($env:XETPS_TEST_REPO) { $env:XETPS_TEST_REPO } else { 'xetps/sample' }
    $listing = @(Get-XetFileList -Repo $repo -Recurse -Endpoint $endpoint)

    function New-Scratch {
        $path = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'xetps-pester-' + [Guid]::NewGuid().ToString('n'))
        $null = [System.IO.Directory]::CreateDirectory($path)
        $path
    }
    # The files a user sees: the engine keeps its up-to-date records under .cache/xetps, like huggingface_hub.
    function Get-LocalFiles([string] $Root) {
        $cache = [System.IO.Path]::Combine($Root, '.cache') + [System.IO.Path]::DirectorySeparatorChar
        @([System.IO.Directory]::GetFiles($Root, '*', [System.IO.SearchOption]::AllDirectories) | Where-Object { -not $_.StartsWith($cache) })
    }
}

Describe 'Get-XetFileList' {
    It 'lists files with the resolved commit, not the branch name' {
        $listing.Count | Should -BeGreaterThan 0
        foreach ($entry in $listing) {
            $entry.Repo | Should -Be $repo
            $entry.Revision | Should -Match '^[0-9a-f]{40}$'
            $entry.Size | Should -BeGreaterOrEqual 0
        }
    }

    It 'writes XetPs.XetFileEntry objects' {
        $listing[0] | Should -BeOfType ([XetPs.XetFileEntry])
    }

    It 'lists only the top folder without -Recurse' {
        $top = @(Get-XetFileList -Repo $repo -Endpoint $endpoint)
        $top.Count | Should -BeGreaterThan 0
        $top.Count | Should -BeLessThan ($listing.Count + 1)
        foreach ($entry in $top) { $entry.Path | Should -Not -Match '/' }
    }

    It 'keeps only the files -Include matches, in any folder' {
        $json = @(Get-XetFileList -Repo $repo -Recurse -Include '*.json' -Endpoint $endpoint)
        $expected = @($listing | Where-Object { $_.Path -like '*.json' })
        $json | Should -HaveCount $expected.Count
        foreach ($entry in $json) { $entry.Path | Should -BeLike '*.json' }
    }

    It 'drops the files -Exclude matches' {
        $rest = @(Get-XetFileList -Repo $repo -Recurse -Exclude '*.json' -Endpoint $endpoint)
        foreach ($entry in $rest) { $entry.Path | Should -Not -BeLike '*.json' }
        $rest.Count | Should -BeLessThan $listing.Count
    }

    It 'fails with XetFileNotFound for a repository that does not exist' {
        { Get-XetFileList -Repo 'xetps/no-such-repo' -Endpoint $endpoint } | Should -Throw -ErrorId 'XetFileNotFound,XetPs.Commands.GetXetFileListCommand'
    }
}

Describe 'Save-XetFile' {
    BeforeEach { $destination = New-Scratch }
    AfterEach { [System.IO.Directory]::Delete($destination, $true) }

    It 'saves every listed file with its listed size, keeping repo folders, from the Hub it was listed from' {
        $saved = @($listing | Save-XetFile -Destination $destination -PassThru)
        $saved | Should -HaveCount $listing.Count
        foreach ($entry in $listing) {
            $local = [System.IO.Path]::Combine($destination, $entry.Path.Replace('/', [System.IO.Path]::DirectorySeparatorChar))
            [System.IO.File]::Exists($local) | Should -BeTrue
            ([System.IO.FileInfo]::new($local)).Length | Should -Be $entry.Size
        }
        Get-LocalFiles $destination | Should -HaveCount $listing.Count
    }

    It 'returns the saved files with -PassThru as Get-Item does' {
        $saved = @($listing[0] | Save-XetFile -Destination $destination -Endpoint $endpoint -PassThru)
        $saved | Should -HaveCount 1
        $saved[0] | Should -BeOfType ([System.IO.FileInfo])
        $saved[0].Length | Should -Be $listing[0].Size
        $saved[0].PSProvider.Name | Should -Be 'FileSystem'
        $saved[0].PSPath | Should -Be (Get-Item -LiteralPath $saved[0].FullName).PSPath
        ($saved[0] | Out-String) | Should -Be (Get-Item -LiteralPath $saved[0].FullName | Out-String)
    }

    It 'writes nothing with -WhatIf' {
        $listing | Save-XetFile -Destination $destination -Endpoint $endpoint -WhatIf
        Get-LocalFiles $destination | Should -HaveCount 0
    }

    It 'skips a file that is already up to date, with a verbose message' {
        $entry = @(@($listing | Where-Object IsXet) + $listing)[0]
        $first = @($entry | Save-XetFile -Destination $destination -Endpoint $endpoint -PassThru)[0]
        $writtenAt = $first.LastWriteTimeUtc
        $verbose = @($entry | Save-XetFile -Destination $destination -Endpoint $endpoint -Verbose 4>&1)
        ($verbose | ForEach-Object { "$_" }) -join "`n" | Should -Match 'Skipped'
        ([System.IO.FileInfo]::new($first.FullName)).LastWriteTimeUtc | Should -Be $writtenAt
    }

    It 'stops with XetDestinationExists when a different file is in the way, and replaces it with -Force' {
        $entry = $listing[0]
        $local = [System.IO.Path]::Combine($destination, $entry.Path.Replace('/', [System.IO.Path]::DirectorySeparatorChar))
        $null = [System.IO.Directory]::CreateDirectory([System.IO.Path]::GetDirectoryName($local))
        [System.IO.File]::WriteAllText($local, 'not the repository file')
        { $entry | Save-XetFile -Destination $destination -Endpoint $endpoint } | Should -Throw -ErrorId 'XetDestinationExists,XetPs.Commands.SaveXetFileCommand'
        [System.IO.File]::ReadAllText($local) | Should -Be 'not the repository file'
        $entry | Save-XetFile -Destination $destination -Endpoint $endpoint -Force
        ([System.IO.FileInfo]::new($local)).Length | Should -Be $entry.Size
    }

    It 'fails with XetFileNotFound, the engine exception and the file as target for a missing file' {
        $err = { Save-XetFile -Repo $repo -Path 'no/such/file.bin' -Destination $destination -Endpoint $endpoint } |
            Should -Throw -ErrorId 'XetFileNotFound,XetPs.Commands.SaveXetFileCommand' -PassThru
        $err.TargetObject | Should -Be 'no/such/file.bin'
        $err.Exception.GetType().Name | Should -Be 'XetFileNotFoundException'
        Get-LocalFiles $destination | Should -HaveCount 0
    }
}

Describe 'Save-XetFile in a batch' {
    BeforeAll {
        # Files at the root of the repo, and a path that is not in it.
        $good = @($listing | Where-Object { -not $_.Path.Contains('/') } | Select-Object -First 2 | ForEach-Object Path)
        $missing = 'no/such/file.bin'
    }
    BeforeEach { $destination = New-Scratch }
    AfterEach { [System.IO.Directory]::Delete($destination, $true) }

    It 'saves the good files, then throws the first failure with what became of the batch' {
        $err = { Save-XetFile -Repo $repo -Path ($good + $missing) -Destination $destination -Endpoint $endpoint } |
            Should -Throw -ErrorId 'XetFileNotFound,XetPs.Commands.SaveXetFileCommand' -PassThru
        $err.Exception.GetType().Name | Should -Be 'XetFileNotFoundException'
        $err.TargetObject | Should -Be $missing
        "$err" | Should -Match 'The batch: 2 saved, 0 up to date, 1 failed, 0 not started\.$'
        Get-LocalFiles $destination | Should -HaveCount 2
    }

    It 'with -ContinueOnError reports each failure through -ErrorVariable, $Error and $?' {
        $Error.Clear()
        Save-XetFile -Repo $repo -Path ($good + $missing) -Destination $destination -Endpoint $endpoint `
            -ContinueOnError -ErrorVariable ev -ErrorAction SilentlyContinue
        $succeeded = $?
        $succeeded | Should -BeFalse
        $ev | Should -HaveCount 1
        $ev[0] | Should -BeOfType ([System.Management.Automation.ErrorRecord])
        $ev[0].FullyQualifiedErrorId | Should -Be 'XetFileNotFound,XetPs.Commands.SaveXetFileCommand'
        $ev[0].Exception.GetType().Name | Should -Be 'XetFileNotFoundException'
        $ev[0].TargetObject | Should -Be $missing
        $Error[0].FullyQualifiedErrorId | Should -Be 'XetFileNotFound,XetPs.Commands.SaveXetFileCommand'
        Get-LocalFiles $destination | Should -HaveCount 2
    }

    It 'with -ContinueOnError -ErrorAction Stop throws the batch error and keeps the good files' {
        { Save-XetFile -Repo $repo -Path ($missing, $good[0]) -Destination $destination -Endpoint $endpoint -ContinueOnError -ErrorAction Stop } |
            Should -Throw -ErrorId 'XetFileNotFound,XetPs.Commands.SaveXetFileCommand'
        Get-LocalFiles $destination | Should -HaveCount 1
    }

    It 'expands -Path wildcards against the listing, and a pattern that matches nothing is XetFileNotFound' {
        $json = @($listing | Where-Object Path -like '*.json')
        $saved = @(Save-XetFile -Repo $repo -Path '*.json' -Destination $destination -Endpoint $endpoint -PassThru)
        $saved | Should -HaveCount $json.Count
        { Save-XetFile -Repo $repo -Path '*.no-such-extension' -Destination $destination -Endpoint $endpoint } |
            Should -Throw -ErrorId 'XetFileNotFound,XetPs.Commands.SaveXetFileCommand'
    }

    It 'writes -PassThru objects in the order of the input' {
        $paths = @($listing | Sort-Object Size -Descending | ForEach-Object Path)
        $names = @(Save-XetFile -Repo $repo -Path $paths -Destination $destination -Endpoint $endpoint -PassThru | ForEach-Object Name)
        $names | Should -Be @($paths | ForEach-Object { $_.Split('/')[-1] })
    }
}

Describe 'Tab completion of -Path' {
    It 'offers the paths of the bound -Repo that this session listed' {
        $line = "Save-XetFile -Repo $repo -Path "
        $offered = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText)
        foreach ($entry in $listing) { $offered | Should -Contain $entry.Path }
    }

    It 'offers folders too for Get-XetFileList -Path' {
        $folder = @($listing | Where-Object { $_.Path.Contains('/') })[0].Path.Split('/')[0]
        $line = "Get-XetFileList -Repo $repo -Path $($folder.Substring(0, 1))"
        $offered = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText)
        $offered | Should -Contain $folder
    }
}
