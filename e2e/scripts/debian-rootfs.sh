# debian-rootfs.sh — sourced by build-kind-node.sh and build-idp-images.sh:
# a Debian root filesystem tarball made with debootstrap from this machine's
# apt mirror, cached under $CACHE once per suite and package list.
# Needs: CACHE, DEBIAN_SUITE, log, die.

# hash_of prints one hash of files (their content) and literal strings.
hash_of() {
	local f
	for f in "$@"; do
		if [[ -f $f ]]; then sha256sum "$f" | cut -d' ' -f1; else echo "$f"; fi
	done | sha256sum | cut -d' ' -f1
}

# apt_mirror prints the Debian mirror this machine's apt uses.
apt_mirror() {
	local m
	m=$(grep -rhoE '(URIs:|deb)[[:space:]]+https?://[^[:space:]]+/debian/?([[:space:]]|$)' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null |
		awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
	echo "${m:-http://deb.debian.org/debian}"
}

# rootfs NAME PACKAGES prints the path of the cached rootfs tarball NAME
# (debootstrap minbase plus the comma-separated PACKAGES), building it once.
ROOTFS_REV=1
rootfs() {
	local name=$1 packages=$2 key dir
	key=$(hash_of "$DEBIAN_SUITE" "$packages" "rev=$ROOTFS_REV")
	dir="$CACHE/$name-rootfs-$DEBIAN_SUITE-${key:0:12}"
	if [[ -f $dir/rootfs.tar ]]; then
		echo "$dir/rootfs.tar"
		return
	fi
	command -v debootstrap >/dev/null || {
		log "installing debootstrap (apt-get)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
	}
	local mirror tmp start=$SECONDS
	mirror=$(apt_mirror)
	tmp="$CACHE/.tmp-$name-rootfs"
	rm -rf "$tmp"
	mkdir -p "$tmp/root"
	log "debootstrap $DEBIAN_SUITE for $name from $mirror (first time: minutes)"
	debootstrap --variant=minbase --include="$packages" "$DEBIAN_SUITE" "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
		{ tail -n 30 "$tmp/debootstrap.log" >&2; die "debootstrap failed (log $tmp/debootstrap.log)"; }
	chroot "$tmp/root" apt-get clean
	rm -rf "$tmp/root/var/lib/apt/lists/"* "$tmp/root/var/cache/apt/"*.bin
	: >"$tmp/root/etc/machine-id"
	tar --numeric-owner --xattrs -C "$tmp/root" -cf "$tmp/rootfs.tar" .
	rm -rf "$tmp/root"
	mkdir -p "$dir"
	mv "$tmp/rootfs.tar" "$dir/rootfs.tar"
	mv "$tmp/debootstrap.log" "$dir/"
	rm -rf "$tmp"
	log "$name rootfs: done in $((SECONDS - start)) s ($dir)"
	echo "$dir/rootfs.tar"
}


# prune_images REF removes the other tags of REF's repository (images of
# earlier inputs); one still used by a container stays.
prune_images() {
	local repo=${1%:*} old
	for old in $(docker images --format '{{.Repository}}:{{.Tag}}' "$repo"); do
		[[ $old == "$1" ]] || docker rmi "$old" >/dev/null 2>&1 || true
	done
}
