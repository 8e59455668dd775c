# Shared by benches/load.sh and benches/proofs_load.sh (sourced, not run): install wrk if missing,
# build, a temporary directory removed on exit with the server it started, `serve_home` to start
# `zhengyin serve` on "$tmp/h" at a free loopback port, and `post_lua` to write a wrk script that
# POSTs one file and prints `RESULT rps=… p50_ms=… p99_ms=… errors=… non2xx=…`.
if ! command -v wrk >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet
Z=./target/release/zhengyin
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$pid" ] && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# Start `zhengyin serve` on the home "$tmp/h" (rate limit off); sets $port and $pid.
serve_home() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  $Z serve --home "$tmp/h" --listen "127.0.0.1:$port" --rate-limit 0 --refresh-secs 0 >"$tmp/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
}

# post_lua BODY_FILE CONTENT_TYPE [AUTHORIZATION]: a wrk script POSTing the file, on stdout.
post_lua() {
  cat <<LUA
local f = assert(io.open("$1", "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "$2"
$( [ -n "${3-}" ] && echo "wrk.headers[\"Authorization\"] = \"$3\"" )
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
LUA
}
