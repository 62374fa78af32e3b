#!/usr/bin/env bash
# Performs the Dockerfile's steps without a Docker engine (none runs on our CI machines):
# build stage in one temp dir, runtime layout in another, then starts the server from the
# runtime layout on a fresh /data-like folder and checks the HEALTHCHECK command passes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/build" "$work/app" "$work/data"

cd "$work/build"
cp "$root/package.json" "$root/package-lock.json" "$root/tsconfig.json" "$root/tsconfig.build.json" .
cp -r "$root/scripts" "$root/prisma" "$root/src" .
rm -rf src/generated
npm ci --no-audit --no-fund >/dev/null
npm prune --omit=dev --no-audit --no-fund >/dev/null

cd "$work/app"
cp -r "$work/build/node_modules" "$work/build/dist" .
cp "$root/package.json" .
cp -r "$root/bin" "$root/prisma" "$root/views" "$root/assets" .
port=$((20000 + RANDOM % 20000))
NODE_ENV=production PORT=$port DATABASE_URL="file:$work/data/tessera.db" node dist/main.js > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 60); do
  if PORT=$port node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    echo "docker-steps: runtime layout starts and passes its HEALTHCHECK (port $port)"
    test -f "$work/data/tessera.db"
    exit 0
  fi
  sleep 0.5
done
cat "$work/server.log"
echo "docker-steps: server did not become ready" >&2
exit 1
