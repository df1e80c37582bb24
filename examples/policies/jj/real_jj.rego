# The jj wrapper of the image: allowed only as the command real_jj at its
# fixed path, and only for the command shapes of package sandbox.jj.
package sandbox.real_jj

import rego.v1

default allow := false

default allow_env := false

allow if {
	input.command == "real_jj"
	input.path == "/opt/tools/bin/real_jj"
	data.sandbox.jj.allow
}
