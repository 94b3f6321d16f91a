# Sourced by the scripts that pip-install (setup.sh, test_wheel.sh, test_newest_tf.sh):
# pip's own cache keeps nothing here (the package index's files come without caching
# headers), so downloaded wheels are kept in a wheelhouse that outlives checkouts and
# CI clones, and installs read from it: TensorFlow is downloaded once per machine.
#   TFTRT_MASKING_WHEELHOUSE   the folder (default ~/.cache/tftrt_masking/wheelhouse)

wheelhouse=${TFTRT_MASKING_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/tftrt_masking/wheelhouse}

# pip_install_via_wheelhouse PYTHON PIP_INSTALL_ARGS...: installs from the wheelhouse
# alone; where something is missing there, downloads it into the wheelhouse first.
pip_install_via_wheelhouse() {
  local python=$1
  shift
  mkdir -p "$wheelhouse"
  local pip=("$python" -m pip --disable-pip-version-check)
  if "${pip[@]}" install -q --no-index --find-links "$wheelhouse" "$@" >/dev/null 2>&1; then
    return 0
  fi
  echo "wheelhouse: downloading what $wheelhouse lacks for: $*"
  "${pip[@]}" download -q --find-links "$wheelhouse" -d "$wheelhouse" "$@" 2>&1 \
    | grep -v "^WARNING: Location" || true
  # A local wheel given by path is copied too: it is not the wheelhouse's to keep.
  local arg
  for arg in "$@"; do
    [ -f "$arg" ] && rm -f "$wheelhouse/$(basename "$arg")"
  done
  "${pip[@]}" install -q --no-index --find-links "$wheelhouse" "$@" 2>&1 \
    | grep -v "^WARNING: Location"
  return "${PIPESTATUS[0]}"
}
