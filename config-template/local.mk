# The tree that `cladding init` copies into ROOT/config, installed as
# $(pkgdatadir)/config-template/.
nobase_dist_pkgdata_DATA += \
	config-template/agent/domains.lst \
	config-template/agent/host_ports.lst \
	config-template/nw_sandbox/domains.lst \
	config-template/nw_sandbox/main.rego \
	config-template/nw_sandbox/curl.rego \
	config-template/fs_sandbox/main.rego
