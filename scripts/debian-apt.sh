# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the scripts that fetch packages from a newer Debian suite than
# the system's: a private apt configuration that never touches the system's.

# The Debian mirror the system uses (not the security one); VRAMSIM_MIRROR
# overrides it.
debian_mirror() {
	local m=${VRAMSIM_MIRROR:-}

	[ -n "$m" ] || m=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		tr ' ' '\n' | grep -v -- '-security' | head -n1 || true)
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $0 !~ /security/ {
			for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
	[ -n "$m" ] || return 1
	echo "$m"
}

# private_apt DIR TYPE SUITES: write DIR/sources.list.d/vramsim.sources for
# TYPE (deb or deb-src) from SUITES, and set the array apt_opts to the apt-get
# options that use it (and DIR's own lists directory) instead of the system's.
private_apt() {
	local dir=$1 type=$2 suites=$3 mirror

	mirror=$(debian_mirror) || {
		echo "no Debian mirror found in /etc/apt; set VRAMSIM_MIRROR=<uri>" >&2
		return 1
	}
	mkdir -p "$dir/lists/partial" "$dir/sources.list.d"
	printf 'Types: %s\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
		"$type" "$mirror" "$suites" /usr/share/keyrings/debian-archive-keyring.gpg \
		> "$dir/sources.list.d/vramsim.sources"
	apt_opts=(-o Dir::Etc::sourcelist=/dev/null
		  -o "Dir::Etc::sourceparts=$dir/sources.list.d"
		  -o "Dir::State::Lists=$dir/lists"
		  -o Debug::NoLocking=1
		  -o APT::Get::List-Cleanup=0)
	apt_mirror=$mirror
}
