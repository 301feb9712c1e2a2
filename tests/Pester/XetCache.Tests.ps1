# Save-XetFile into the Hugging Face cache in real pwsh: the environment variables huggingface_hub reads (HF_HUB_CACHE,
# HF_HUB_OFFLINE) are process-wide, so they are exercised here, in pwsh's own process, rather than in the hosted specs.
# Run like Save-XetFile.Tests.ps1 (see its top): the emulator's sample repo at $env:XETPS_TEST_ENDPOINT.

BeforeAll {
    if (-not (Get-Module XetPs)) {
        $manifest = if ($env:XETPS_MODULE_PATH) { $env:XETPS_MODULE_PATH } else {
            [System.IO.Path]::Combine($PSScriptRoot, '..', '..', 'artifacts', 'module', 'XetPs', 'XetPs.psd1')
        }
        Import-Module $manifest -Force -ErrorAction Stop
    }
    $endpoint = $env:XETPS_TEST_ENDPOINT
    if (-not $endpoint) { throw 'XETPS_TEST_ENDPOINT is not set: start the emulator (see Save-XetFile.Tests.ps1) and set it to its URL.' }
    $repo = 'xetps/sample'
    function New-Scratch {
        $path = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'xetps-pester-' + [Guid]::NewGuid().ToString('n'))
        $null = [System.IO.Directory]::CreateDirectory($path)
        $path
    }
}

Describe 'Save-XetFile -Cache' {
    BeforeEach {
        $cache = New-Scratch
        $saved = @{ HF_HUB_CACHE = $env:HF_HUB_CACHE; HF_HUB_OFFLINE = $env:HF_HUB_OFFLINE }
        $env:HF_HUB_CACHE = $cache
    }
    AfterEach {
        $env:HF_HUB_CACHE = $saved.HF_HUB_CACHE
        $env:HF_HUB_OFFLINE = $saved.HF_HUB_OFFLINE
        [System.IO.Directory]::Delete($cache, $true)
    }

    It 'saves into HF_HUB_CACHE as huggingface_hub lays it out' {
        $file = Save-XetFile -Repo $repo -Path config.json -Cache -Endpoint $endpoint -PassThru
        $commit = [System.IO.File]::ReadAllText([System.IO.Path]::Combine($cache, 'models--xetps--sample', 'refs', 'main'))
        $commit | Should -Match '^[0-9a-f]{40}$'
        $file.FullName | Should -Be ([System.IO.Path]::Combine($cache, 'models--xetps--sample', 'snapshots', $commit, 'config.json'))
        $file.LinkTarget | Should -BeLike "*blobs*"
        (Get-Content -Raw $file.FullName) | Should -Not -BeNullOrEmpty
    }
}

Describe 'HF_HUB_OFFLINE' {
    BeforeAll {
        $cache = New-Scratch
        $env:HF_HUB_CACHE = $cache
        $null = Save-XetFile -Repo $repo -Path config.json -Cache -Endpoint $endpoint
        $env:HF_HUB_OFFLINE = '1'
    }
    AfterAll {
        Remove-Item Env:HF_HUB_OFFLINE, Env:HF_HUB_CACHE -ErrorAction SilentlyContinue
        [System.IO.Directory]::Delete($cache, $true)
    }

    It 'answers a cached file from the cache' {
        $file = Save-XetFile -Repo $repo -Path config.json -Cache -Endpoint 'http://127.0.0.1:9' -PassThru
        $file.FullName | Should -BeLike "*snapshots*config.json"
    }

    It 'fails a missing file with XetOffline, naming it, and goes on with the others' {
        $files = @(Save-XetFile -Repo $repo -Path README.md, config.json -Cache -PassThru -ErrorVariable failed -ErrorAction SilentlyContinue)
        $files | Should -HaveCount 1
        $failed | Should -HaveCount 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'XetOffline,XetPs.Commands.SaveXetFileCommand'
        $failed[0].TargetObject | Should -Be 'README.md'
    }

    It 'lists the cached snapshot' {
        @(Get-XetFileList -Repo $repo -Recurse).Path | Should -Be @('config.json')
    }
}

Describe 'Get-XetCache and Remove-XetCache' {
    BeforeAll {
        $cache = New-Scratch
        $null = Save-XetFile -Repo $repo -Path config.json, README.md -CacheDirectory $cache -Endpoint $endpoint
    }
    AfterAll { [System.IO.Directory]::Delete($cache, $true) }

    It 'shows repositories in a view that reads like hf cache scan' {
        $text = Get-XetCache -CacheDirectory $cache | Out-String -Width 200
        $text | Should -Match 'Repository\s+Size\s+Files\s+Revisions\s+Refs\s+LastAccessed\s+LastModified'
        $text | Should -Match 'xetps/sample\s+\d[\d.,]* K?B\s+2\s+1\s+main'
    }

    It 'shows revisions grouped by repository' {
        $text = (Get-XetCache -CacheDirectory $cache).Revisions | Out-String -Width 200
        $text | Should -Match 'Repository: xetps/sample'
        $text | Should -Match '[0-9a-f]{40}\s+\d'
    }

    It 'removes a piped repository' {
        Get-XetCache -CacheDirectory $cache | Remove-XetCache
        @(Get-XetCache -CacheDirectory $cache) | Should -HaveCount 0
    }
}

Describe 'Completion of -Repo from the Hugging Face cache' {
    BeforeAll {
        $cache = New-Scratch
        $saved = $env:HF_HUB_CACHE
        $env:HF_HUB_CACHE = $cache
        # What Python (or an earlier run) left there: two repositories, and the cache's own lock folder.
        foreach ($folder in 'models--cached-org--cached-model', 'datasets--cached-org--cached-data', '.locks') {
            $null = [System.IO.Directory]::CreateDirectory([System.IO.Path]::Combine($cache, $folder))
        }
    }
    AfterAll {
        $env:HF_HUB_CACHE = $saved
        [System.IO.Directory]::Delete($cache, $true)
    }

    It 'offers the repositories the cache holds, without a request' {
        $line = 'Save-XetFile -Repo cached-'
        $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $offered | Should -Contain 'cached-org/cached-model'
        $line = 'Save-XetFile -Repo datasets/cached'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'datasets/cached-org/cached-data'
    }
}
