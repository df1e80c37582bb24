# cargo: no arguments, --help, or fetch (downloads the dependencies named in
# Cargo.lock; builds and scripts are not allowed).
package sandbox.cargo

import rego.v1

default allow := false

default allow_env := false

allow if count(input.args) == 0

allow if input.args == ["--help"]

allow if input.args == ["fetch"]
