#!/usr/bin/env bash
# Mutation testing of measures, the codes and the engine with mutmut (a developer tool,
# not a dependency: `pip install mutmut`, tested with 3.8.1). What is mutated and which
# tests run are set in pyproject.toml, [tool.mutmut]; mutmut runs, for each mutant, only
# the selected tests that call the mutated function. The numba kernel files are not
# mutated (see README, "Testing").
#
#   tools/mutation.sh            # resume: mutants with a result keep it
#   tools/mutation.sh --fresh    # delete mutants/ and start over (all groups: over an hour
#                                # on 2 shared cores; measures ~1 min, bounds ~2 min, the
#                                # symbol codes ~30 min; arithmetic and engine the rest)
#   tools/mutation.sh NAME...    # re-run the named mutants (globs allowed), e.g. after
#                                # adding a test: 'simulator.measures.*'
#
# Prints killed / total per module group at the end (tools/mutation_summary.py).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--fresh" ]]; then
    rm -rf mutants
    shift
fi
start=$(date +%s)
nice -n 10 mutmut run --max-children "${MUTMUT_WORKERS:-2}" "$@" || true
echo "wall time: $(( $(date +%s) - start )) s"
mutmut results --all true | python tools/mutation_summary.py
