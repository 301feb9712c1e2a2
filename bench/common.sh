# bench/common.sh: what bench/run and bench/soak share (sourced, not run): the Release build of the bench driver, and
# the emulator started as its own process on the persistent store. Both need $root set to the repository root.

# Builds XetPs.Bench and sets bench_dll. Published ReadyToRun, as the module's engine runs on PowerShell 7
# (core/Dependencies/r2r): the engine client and the cmdlet then run the same ahead-of-time code, and cmdlet/engine
# measures the cmdlet layer alone. Without the crossgen package, a plain build.
bench_build() {
  echo "$1: building (Release)..." >&2
  local bench_bin=$root/bench/XetPs.Bench/bin/publish-r2r
  if dotnet publish "$root/bench/XetPs.Bench/XetPs.Bench.csproj" -c Release --use-current-runtime --self-contained false \
       -p:PublishReadyToRun=true -o "$bench_bin" -nologo -v q -clp:NoSummary >&2; then
    bench_dll=$bench_bin/XetPs.Bench.dll
  else
    echo "$1: the ReadyToRun publish failed; measuring a plain build" >&2
    dotnet build "$root/bench/XetPs.Bench/XetPs.Bench.csproj" -c Release -nologo -v q -clp:NoSummary >&2
    bench_dll=$root/bench/XetPs.Bench/bin/Release/net10.0/XetPs.Bench.dll
  fi
}

# bench_start_emulator NAME WORK STORE EMULATOR-ARGS...: starts the emulator, waits for "ready" (the first run on a
# machine builds the data), and sets emulator (its pid) and hub (its URL). The caller stops it (kill -TERM).
bench_start_emulator() {
  local name=$1 work=$2 store=$3; shift 3
  echo "$name: starting the emulator (store $store, $*; the first run on a machine builds the data)..." >&2
  dotnet "$bench_dll" emulator --store "$store" "$@" > "$work/emulator.out" 2> "$work/emulator.err" &
  emulator=$!
  until grep -qx ready "$work/emulator.out" 2>/dev/null; do
    if ! kill -0 "$emulator" 2>/dev/null; then
      echo "$name: the emulator exited:" >&2; cat "$work/emulator.err" >&2; return 1
    fi
    sleep 1
  done
  cat "$work/emulator.err" >&2
  hub=$(head -n1 "$work/emulator.out")
  echo "$name: emulator at $hub" >&2
}
