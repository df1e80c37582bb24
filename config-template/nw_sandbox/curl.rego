# curl in the nw-sandbox: only a HEAD request to example.com, with the curl
# of the image. Extend the argument list to allow more.
package sandbox.curl

import rego.v1

default allow := false

default allow_env := false

allow if {
	input.path == "/usr/bin/curl"
	input.args == ["-I", "example.com"]
}
