# PesterLite: the subset of Pester 5 that tests/Pester/*.Tests.ps1 use, for hosts without Pester (this machine has
# none; CI runs the specs in the hosted PowerShell engine through tests/Unit/Module/PesterSpecTests.cs).
# Same semantics as Pester 5 where it matters: Describe/Context bodies run once to discover the tests; BeforeAll runs
# in the block's scope before its tests, so its variables are visible to every It below; each It runs in its own
# child scope after the BeforeEach blocks of its parents; AfterEach/AfterAll always run. A failing BeforeAll fails
# every test under it. Only core cmdlets are used (the hosted engine has no Utility module).
#
#   . ./PesterLite.ps1; Invoke-PesterLite -Path ./Save-XetFile.Tests.ps1   # one result object per It

$script:__plRoot = $null
$script:__plCurrent = $null

function New-PesterLiteBlock([string] $Name, [string] $Kind) {
    [pscustomobject]@{
        Name       = $Name
        Kind       = $Kind
        BeforeAll  = [System.Collections.Generic.List[scriptblock]]::new()
        AfterAll   = [System.Collections.Generic.List[scriptblock]]::new()
        BeforeEach = [System.Collections.Generic.List[scriptblock]]::new()
        AfterEach  = [System.Collections.Generic.List[scriptblock]]::new()
        Children   = [System.Collections.Generic.List[object]]::new()
    }
}

function Assert-PesterLiteDiscovery([string] $Keyword) {
    if ($null -eq $script:__plCurrent) { throw "$Keyword is only valid inside a file run by Invoke-PesterLite." }
}

function Describe {
    param([Parameter(Mandatory, Position = 0)][string] $Name, [Parameter(Mandatory, Position = 1)][scriptblock] $Fixture)
    Assert-PesterLiteDiscovery 'Describe'
    $__plBlock = New-PesterLiteBlock $Name 'Describe'
    $script:__plCurrent.Children.Add($__plBlock)
    $__plParent = $script:__plCurrent
    $script:__plCurrent = $__plBlock
    try { $null = & $Fixture } finally { $script:__plCurrent = $__plParent }
}

function Context {
    param([Parameter(Mandatory, Position = 0)][string] $Name, [Parameter(Mandatory, Position = 1)][scriptblock] $Fixture)
    Assert-PesterLiteDiscovery 'Context'
    $__plBlock = New-PesterLiteBlock $Name 'Context'
    $script:__plCurrent.Children.Add($__plBlock)
    $__plParent = $script:__plCurrent
    $script:__plCurrent = $__plBlock
    try { $null = & $Fixture } finally { $script:__plCurrent = $__plParent }
}

function It {
    param(
        [Parameter(Mandatory, Position = 0)][string] $Name,
        [Parameter(Mandatory, Position = 1)][scriptblock] $Test,
        [Alias('ForEach')][System.Collections.IDictionary[]] $TestCases
    )
    Assert-PesterLiteDiscovery 'It'
    # Not named ForEach: $foreach is an automatic variable inside functions.
    $cases = if ($TestCases) { $TestCases } else { , @($null) }  # one run without variables
    foreach ($case in $cases) {
        $title = $Name
        if ($case) { foreach ($key in $case.Keys) { $title = $title.Replace("<$key>", "$($case[$key])") } }
        $script:__plCurrent.Children.Add([pscustomobject]@{ Name = $title; Kind = 'It'; Test = $Test; Case = $case })
    }
}

function BeforeAll { param([Parameter(Mandatory, Position = 0)][scriptblock] $Setup) Assert-PesterLiteDiscovery 'BeforeAll'; $script:__plCurrent.BeforeAll.Add($Setup) }
function AfterAll { param([Parameter(Mandatory, Position = 0)][scriptblock] $Cleanup) Assert-PesterLiteDiscovery 'AfterAll'; $script:__plCurrent.AfterAll.Add($Cleanup) }
function BeforeEach { param([Parameter(Mandatory, Position = 0)][scriptblock] $Setup) Assert-PesterLiteDiscovery 'BeforeEach'; $script:__plCurrent.BeforeEach.Add($Setup) }
function AfterEach { param([Parameter(Mandatory, Position = 0)][scriptblock] $Cleanup) Assert-PesterLiteDiscovery 'AfterEach'; $script:__plCurrent.AfterEach.Add($Cleanup) }

function Format-PesterLiteValue($Value) {
    if ($null -eq $Value) { return '$null' }
    if ($Value -is [string]) { return "'$Value'" }
    if ($Value -is [bool]) { return "`$$Value" }
    if ($Value -is [System.Collections.IEnumerable]) { return '@(' + ((@($Value) | ForEach-Object { Format-PesterLiteValue $_ }) -join ', ') + ')' }
    return "$Value"
}

function Test-PesterLiteEqual($Actual, $Expected, [switch] $CaseSensitive) {
    $actualItems = @($Actual); $expectedItems = @($Expected)
    $actualIsList = $Actual -is [System.Collections.IEnumerable] -and $Actual -isnot [string]
    $expectedIsList = $Expected -is [System.Collections.IEnumerable] -and $Expected -isnot [string]
    if ($actualIsList -or $expectedIsList) {
        if ($actualItems.Count -ne $expectedItems.Count) { return $false }
        for ($i = 0; $i -lt $actualItems.Count; $i++) {
            if (-not (Test-PesterLiteEqual $actualItems[$i] $expectedItems[$i] -CaseSensitive:$CaseSensitive)) { return $false }
        }
        return $true
    }
    if ($null -eq $Expected) { return $null -eq $Actual }
    if ($null -eq $Actual) { return $false }
    if ($CaseSensitive) { return $Actual -ceq $Expected }
    return $Actual -eq $Expected
}

function Should {
    [CmdletBinding()]
    param(
        [Parameter(ValueFromPipeline)] $ActualValue,
        [switch] $Not,
        $Be, $BeExactly, [switch] $BeTrue, [switch] $BeFalse, [switch] $BeNullOrEmpty, $HaveCount, $Match, $BeLike,
        $BeOfType, $BeGreaterThan, $BeLessThan, $BeGreaterOrEqual, $Contain, [switch] $Exist, [switch] $Throw,
        [string] $ExpectedMessage, [string] $ErrorId, [type] $ExceptionType, [switch] $PassThru, [string] $Because
    )
    begin { $__plItems = [System.Collections.Generic.List[object]]::new() }
    process { $__plItems.Add($ActualValue) }
    end {
        $actual = if ($__plItems.Count -eq 1) { $__plItems[0] } else { , $__plItems.ToArray() }
        # Distinct names: PowerShell variables are case-insensitive, $not would be the -Not switch itself.
        $why = if ($Because) { ", because $Because" } else { '' }
        $negation = if ($Not) { 'not ' } else { '' }
        function Assert([bool] $Holds, [string] $Expectation) {
            if ($Holds -eq [bool]$Not) { throw [System.Exception]::new("Expected $negation$Expectation$why, but got $(Format-PesterLiteValue $actual).") }
        }
        if ($Throw) {
            if ($actual -isnot [scriptblock]) { throw 'Should -Throw needs a script block as input.' }
            $record = $null
            try { $null = & $actual } catch { $record = $_ }
            if ($Not) {
                if ($record) { throw [System.Exception]::new("Expected no exception$why, but got: $($record.Exception.Message)") }
                return
            }
            if (-not $record) { throw [System.Exception]::new("Expected an exception$why, but none was thrown.") }
            if ($ExceptionType -and $record.Exception -isnot $ExceptionType) {
                throw [System.Exception]::new("Expected an exception of type $ExceptionType$why, but got $($record.Exception.GetType().FullName): $($record.Exception.Message)")
            }
            if ($ErrorId -and $record.FullyQualifiedErrorId -notlike "*$ErrorId*") {
                throw [System.Exception]::new("Expected error id '$ErrorId'$why, but got '$($record.FullyQualifiedErrorId)': $($record.Exception.Message)")
            }
            if ($ExpectedMessage -and $record.Exception.Message -notlike $ExpectedMessage) {
                throw [System.Exception]::new("Expected the message to be like '$ExpectedMessage'$why, but got '$($record.Exception.Message)'.")
            }
            if ($PassThru) { return $record }
            return
        }
        if ($PSBoundParameters.ContainsKey('Be')) { Assert (Test-PesterLiteEqual $actual $Be) "$(Format-PesterLiteValue $Be)"; return }
        if ($PSBoundParameters.ContainsKey('BeExactly')) { Assert (Test-PesterLiteEqual $actual $BeExactly -CaseSensitive) "exactly $(Format-PesterLiteValue $BeExactly)"; return }
        if ($BeTrue) { Assert ($actual -eq $true) '$true'; return }
        if ($BeFalse) { Assert ($actual -eq $false) '$false'; return }
        if ($BeNullOrEmpty) { Assert ($null -eq $actual -or "$actual" -eq '' -or @($actual).Count -eq 0) '$null or empty'; return }
        if ($PSBoundParameters.ContainsKey('HaveCount')) {
            $count = if ($null -eq $actual) { 0 } else { @($actual).Count }
            if (($count -eq $HaveCount) -eq [bool]$Not) { throw [System.Exception]::new("Expected $($negation)a collection of $HaveCount item(s)$why, but got ${count}: $(Format-PesterLiteValue $actual).") }
            return
        }
        if ($PSBoundParameters.ContainsKey('Match')) { Assert ("$actual" -match $Match) "to match '$Match'"; return }
        if ($PSBoundParameters.ContainsKey('BeLike')) { Assert ("$actual" -like $BeLike) "like '$BeLike'"; return }
        if ($PSBoundParameters.ContainsKey('BeOfType')) {
            $type = if ($BeOfType -is [type]) { $BeOfType } else { $BeOfType -as [type] }
            if ($null -eq $type) { throw "Should -BeOfType: unknown type '$BeOfType'." }
            Assert ($actual -is $type) "of type $type (got $(if ($null -eq $actual) { 'null' } else { $actual.GetType().FullName }))"; return
        }
        if ($PSBoundParameters.ContainsKey('BeGreaterThan')) { Assert ($actual -gt $BeGreaterThan) "greater than $BeGreaterThan"; return }
        if ($PSBoundParameters.ContainsKey('BeGreaterOrEqual')) { Assert ($actual -ge $BeGreaterOrEqual) "greater than or equal to $BeGreaterOrEqual"; return }
        if ($PSBoundParameters.ContainsKey('BeLessThan')) { Assert ($actual -lt $BeLessThan) "less than $BeLessThan"; return }
        if ($PSBoundParameters.ContainsKey('Contain')) { Assert (@($actual) -contains $Contain) "a collection containing $(Format-PesterLiteValue $Contain)"; return }
        if ($Exist) { Assert ([System.IO.File]::Exists("$actual") -or [System.IO.Directory]::Exists("$actual")) 'an existing path'; return }
        throw 'Should: no assertion operator given (PesterLite supports -Be, -BeExactly, -BeTrue, -BeFalse, -BeNullOrEmpty, -HaveCount, -Match, -BeLike, -BeOfType, -BeGreaterThan, -BeGreaterOrEqual, -BeLessThan, -Contain, -Exist, -Throw).'
    }
}

function Invoke-PesterLiteBlock($__plBlock, [string] $__plPath, $__plBeforeEach, $__plAfterEach, $__plResults) {
    # A child scope per block: what BeforeAll defines is seen by the tests below it, not by sibling blocks.
    & {
        $__plSetupFailure = $null
        try { foreach ($__plSetup in $__plBlock.BeforeAll) { . $__plSetup } }
        catch { $__plSetupFailure = $_ }
        $__plInnerBefore = @($__plBeforeEach) + @($__plBlock.BeforeEach)
        $__plInnerAfter = @($__plBlock.AfterEach) + @($__plAfterEach)
        foreach ($__plChild in $__plBlock.Children) {
            $__plName = if ($__plPath) { "$__plPath > $($__plChild.Name)" } else { $__plChild.Name }
            if ($__plChild.Kind -ne 'It') {
                if ($__plSetupFailure) {
                    $__plResults.Add([pscustomobject]@{ Name = $__plName; Passed = $false; Message = "BeforeAll failed: $($__plSetupFailure.Exception.Message)" })
                    continue
                }
                Invoke-PesterLiteBlock $__plChild $__plName $__plInnerBefore $__plInnerAfter $__plResults
                continue
            }
            if ($__plSetupFailure) {
                $__plResults.Add([pscustomobject]@{ Name = $__plName; Passed = $false; Message = "BeforeAll failed: $($__plSetupFailure.Exception.Message)" })
                continue
            }
            $__plOutcome = & {
                $__plFailure = $null
                try {
                    foreach ($__plEach in $__plInnerBefore) { . $__plEach }
                    if ($__plChild.Case) { foreach ($__plKey in $__plChild.Case.Keys) { $ExecutionContext.SessionState.PSVariable.Set($__plKey, $__plChild.Case[$__plKey]) } }
                    $null = . $__plChild.Test
                }
                catch { $__plFailure = $_ }
                foreach ($__plEach in $__plInnerAfter) {
                    try { $null = . $__plEach } catch { if (-not $__plFailure) { $__plFailure = $_ } }
                }
                if ($__plFailure) {
                    # Point at the spec's line, not at the harness's throw inside Should.
                    $frame = @("$($__plFailure.ScriptStackTrace)" -split "`n" | Where-Object { $_ -match ', (.+): line (\d+)' -and $_ -notmatch 'PesterLite\.ps1' })[0]
                    $at = if ($frame -match ', (.+): line (\d+)') { " ($([System.IO.Path]::GetFileName($Matches[1])):$($Matches[2]))" } else { '' }
                    "$($__plFailure.Exception.Message)$at"
                }
            }
            $__plResults.Add([pscustomobject]@{ Name = $__plName; Passed = (-not $__plOutcome); Message = "$__plOutcome" })
        }
        foreach ($__plCleanup in $__plBlock.AfterAll) {
            try { $null = . $__plCleanup }
            catch { $__plResults.Add([pscustomobject]@{ Name = "$__plPath > AfterAll"; Passed = $false; Message = $_.Exception.Message }) }
        }
    }
}

function Invoke-PesterLite {
    param([Parameter(Mandatory)][string] $Path)
    $full = [System.IO.Path]::GetFullPath($Path)
    $root = New-PesterLiteBlock ([System.IO.Path]::GetFileName($full)) 'File'
    $script:__plCurrent = $root
    try { $null = . $full } finally { $script:__plCurrent = $null }
    $results = [System.Collections.Generic.List[object]]::new()
    Invoke-PesterLiteBlock $root '' @() @() $results
    $results
}
