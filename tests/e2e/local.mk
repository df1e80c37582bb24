# The e2e suite runs against an installed cladding on real Podman, from
# .ci/run; it is shipped but not part of make check.
EXTRA_DIST += tests/e2e/run.sh tests/e2e/origin.py tests/e2e/containers.conf
