# Router: a request runs only when the package named after the requested
# command (data.sandbox.<command>) allows it. The package is chosen by the
# command token exactly as sent, so a full path such as /usr/bin/cargo
# matches no package and is denied.
package sandbox.main

import rego.v1

default allow := false

allow if {
	command_allowed
	env_allowed
}

command_allowed if data.sandbox[input.command].allow == true

# Environment variables pass only when the command's package opts in.
env_allowed if count(input.env) == 0

env_allowed if data.sandbox[input.command].allow_env == true
