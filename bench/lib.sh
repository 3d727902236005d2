# Shared set-up for the bench scripts: source it from the repository root.
# Sets NGINX (installing Debian's nginx if missing) and GOVSNAP (a release
# build of this checkout).
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  apt-get install -y -q nginx >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
cargo build -q --release
GOVSNAP=$PWD/target/release/govsnap
