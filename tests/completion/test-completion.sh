#!/bin/bash
# Tests the bash completion of cladding.  For each case it sets COMP_WORDS
# and COMP_CWORD as bash would for the command line, calls _cladding, and
# compares the sorted COMPREPLY with the expected words.
#
# Usage: tests/completion/test-completion.sh  (exit status 1 on a mismatch)

set -u

srcdir=${CLADDING_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
completion_file=$srcdir/completion/cladding

if [[ ! -r $completion_file ]]; then
  echo "missing completion file: $completion_file" >&2
  exit 1
fi
# shellcheck source=../../completion/cladding
. "$completion_file"

passed=0
failed=0

# File and directory completion run in a scratch directory with known
# entries, so their results do not depend on where the test runs.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cladding-completion-XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/project" "$scratch/prompts"
: >"$scratch/file1"
cd "$scratch" || exit 1

export CLADDING_TEST_VARIABLE=1

# check_completion NAME EXPECTED WORD...
# Completes the command line WORD... with the cursor at the end of the last
# word and compares the space-joined COMPREPLY, sorted, with EXPECTED.
check_completion() {
  local name=$1 expected=$2 actual
  shift 2

  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _cladding
  actual=$(printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd ' ' -)

  if [[ $actual == "$expected" ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL %s\n  line:     %s\n  expected: %s\n  actual:   %s\n' \
      "$name" "$*" "$expected" "$actual"
  fi
}

all_commands="build check destroy down expose help init inject logs ps"
all_commands+=" reload-proxy run run-with-scissors up"

check_completion "command prefix" "logs" cladding lo
check_completion "all commands" "$all_commands" cladding ""
check_completion "commands starting with r" "reload-proxy run run-with-scissors" \
  cladding r
check_completion "global options" "--help --project-root --version -h" cladding -
check_completion "logs targets" "agent bridge fs-sandbox nw-sandbox proxy" \
  cladding logs ""
check_completion "logs target prefix" "nw-sandbox" cladding logs nw
check_completion "podman logs option" "--follow" cladding logs proxy --f
check_completion "no word after logs target" "" cladding logs proxy ""
check_completion "ps format values" "json text" cladding ps --format ""
check_completion "ps format split at =" "json" cladding ps --format = j
check_completion "ps format after =" "json text" cladding ps --format =
check_completion "ps format unsplit" "--format=json" cladding ps --format=j
check_completion "scissors targets" "fs-sandbox nw-sandbox" \
  cladding run-with-scissors --target ""
check_completion "scissors options" "--env --help --target" cladding run-with-scissors -
check_completion "up options" "--help --quiet --timeout --verbose" cladding up --
check_completion "down options" "--help --verbose -v" cladding down -
check_completion "build agents value" "none" cladding build --agents n
check_completion "help command" "reload-proxy run run-with-scissors" cladding help r
check_completion "nothing after help command" "" cladding help run ""
check_completion "project root directories" "project prompts" \
  cladding --project-root pro
check_completion "project root inline" "--project-root=project" \
  cladding --project-root=proj
check_completion "command after project root" "--help --verbose" \
  cladding --project-root project down --
check_completion "project root among options" "project" \
  cladding up --project-root proj
check_completion "run env names" "CLADDING_TEST_VARIABLE" \
  cladding run --env CLADDING_TEST_V
check_completion "run command file" "file1" cladding run fi
check_completion "run options end at command" "" cladding run ls --e
check_completion "run env after command is a file" "file1" cladding run ls --env f
check_completion "expose bind value" "127.0.0.1" cladding expose --bind ""
check_completion "no value for timeout" "" cladding up --timeout ""
check_completion "no options for check" "--help" cladding check -

# With a built cladding, the options offered for each installed command
# must be those that `cladding help COMMAND` prints.
cladding_binary=${CLADDING_BUILDDIR:-}/cladding
if [[ -n ${CLADDING_BUILDDIR:-} && -x $cladding_binary ]]; then
  for command in $all_commands; do
    [[ $command == help ]] && continue
    # A command whose plugin is not installed has no help to compare.
    help_text=$("$cladding_binary" help "$command" 2>/dev/null) || continue
    printed=$(printf '%s\n' "$help_text" |
      sed -n 's/^  \(-[a-z], \)\{0,1\}\(--[a-z-]*\).*/\2/p' | sort |
      paste -sd ' ' -)
    check_completion "options match help $command" "$printed" cladding "$command" --
  done
else
  echo "note: CLADDING_BUILDDIR has no cladding binary; help comparison skipped"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
