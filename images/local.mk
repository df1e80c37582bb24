# Containerfiles that `cladding build` reads, installed as
# $(pkgdatadir)/images/.
nobase_dist_pkgdata_DATA += \
	images/agent.Containerfile \
	images/sandbox.Containerfile \
	images/proxy.Containerfile

# Scripts for machines without a container registry and for VMs where
# Podman's defaults cannot start a container. They are shipped in the
# tarball but not installed.
EXTRA_DIST += \
	contrib/make-base-image \
	contrib/podman-env \
	contrib/containers-vm.conf \
	docs/images.md
