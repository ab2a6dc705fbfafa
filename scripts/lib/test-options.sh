# Shared by scripts/test.sh and scripts/package-tests.sh (sourced, not run): their command line.
#
# read_test_options NAME OWN… -- "$@" reads the command line before anything else runs:
#   -h/--help sets help=1; an option among OWN (the script's own flags, no values) is appended to
#   own_args; any other option is one of node's, appended to runner_args with its value when node
#   says it takes one (`--test-name-pattern ring`); a word that is no option is refused. node
#   then checks runner_args itself (names and values) without running anything. A refusal is one
#   line, `NAME: why (see --help)`, and exit 2.
# script_usage FILE prints the usage: FILE's header comment from its second line.

script_usage() { sed -n '2,/^[^#]/{/^#/!q;s/^# \{0,1\}//;p}' "$1"; }

read_test_options() {
  local name=$1
  shift
  local own=()
  while (($# > 0)) && [[ $1 != -- ]]; do
    own+=("$1")
    shift
  done
  shift # the --
  help=0
  own_args=()
  runner_args=()
  local args=("$@") i arg
  for ((i = 0; i < ${#args[@]}; i++)); do
    arg=${args[i]}
    case "$arg" in
      -h | --help) help=1 ;;
      -?*=*) runner_args+=("$arg") ;;
      -?*)
        if [[ " ${own[*]} " == *" $arg "* ]]; then
          own_args+=("$arg")
          continue
        fi
        runner_args+=("$arg")
        if ((i + 1 < ${#args[@]})) && [[ $(node --version "$arg" 2>&1 >/dev/null) == *'requires an argument'* ]]; then
          runner_args+=("${args[i + 1]}")
          i=$((i + 1))
        fi
        ;;
      *) _test_options_refuse "$name" "unexpected argument '$arg'" ;;
    esac
  done
  local node_error
  if ((${#runner_args[@]} > 0)) && ! node_error=$(node --version "${runner_args[@]}" 2>&1 >/dev/null); then
    node_error=${node_error%%$'\n'*}
    node_error=${node_error#node: }
    [[ $node_error =~ ^bad\ option:\ (.*)$ ]] && node_error="unknown option '${BASH_REMATCH[1]}'"
    _test_options_refuse "$name" "$node_error"
  fi
  return 0
}

_test_options_refuse() {
  printf '%s: %s (see --help)\n' "$1" "$2" >&2
  exit 2
}
