#!/usr/bin/env bash
# build-kind-node.sh — the kind node image, built on this machine from the
# pinned versions, with no container registry:
#
#   Debian rootfs      debootstrap $DEBIAN_SUITE (minbase) from the machine's
#                      apt mirror: systemd, dbus, containerd, runc, the CNI
#                      plugins, iptables, iproute2
#   Kubernetes         kubeadm, kubelet, kubectl from e2e/peers/kubernetes
#   crictl             from e2e/peers/crictl
#   images             kube-apiserver, kube-controller-manager, kube-scheduler
#                      (registry.k8s.io/<name>:$KUBERNETES_VERSION), etcd
#                      (registry.k8s.io/etcd:$ETCD_VERSION), pause — image
#                      tarballs written by e2e/cmd/nodeimage and
#                      release/cmd/ocibuild (no Docker), in /kind/images; the node
#                      imports them into containerd at boot, before the kubelet
#   node files         e2e/cluster/kind/node: entrypoint, containerd config,
#                      a bridge CNI config (kind's kindnetd is not buildable
#                      here: the cluster is created with disableDefaultCNI),
#                      kubelet unit and kubeadm drop-in
#
# The result is imported into Docker as fedtoken.local/kind-node:<k8s>-<key>,
# key = hash of every input; the reference is written to
# $CACHE/kind-node-$KUBERNETES_VERSION/image. A second run whose inputs are
# unchanged and whose image Docker still has takes a second.
#
# Usage: e2e/scripts/build-kind-node.sh   (root; a Docker daemon must answer)
set -euo pipefail
E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../peers/versions.env
source "$E2E_DIR/peers/versions.env"
CACHE="${FEDTOKEN_E2E_CACHE:-/var/cache/fedtoken-e2e}"
GO="${GO:-go}"
NODE_DIR="$E2E_DIR/cluster/kind/node"
# The pod subnet kind gives the single node (kind's default podSubnet is
# 10.244.0.0/16; the node's podCIDR is its first /24).
POD_SUBNET=10.244.0.0/24
NODE_PACKAGES=systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,iptables,iproute2,ca-certificates,procps,kmod,util-linux,mount,libseccomp2

log() { printf '[build-kind-node %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# shellcheck source=debian-rootfs.sh
source "$E2E_DIR/scripts/debian-rootfs.sh"

main() {
	[[ $(id -u) == 0 ]] || die "run as root (debootstrap, chroot)"
	docker info >/dev/null 2>&1 || die "no Docker daemon answers (e2e/scripts/start-dockerd.sh starts one)"
	"$E2E_DIR/scripts/install-peers.sh" --no-apt kubernetes kubeadm crictl etcd pause
	local kube="$CACHE/kubernetes-$KUBERNETES_VERSION/bin" kubeadm="$CACHE/kubeadm-$KUBERNETES_VERSION/bin/kubeadm"
	local crictl="$CACHE/crictl-$CRICTL_VERSION/bin/crictl" etcd="$CACHE/etcd-$ETCD_VERSION/bin/etcd"
	local pause="$CACHE/pause-${PAUSE_IMAGE##*:}/pause.tar"
	exec 9>"$CACHE/.kind-node.lock"
	flock 9
	local tar
	tar=$(rootfs kind "$NODE_PACKAGES")
	local key
	key=$(hash_of "$tar" "$kube"/{kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,kubectl} "$kubeadm" "$crictl" "$etcd" "$pause" \
		"$NODE_DIR"/* "${BASH_SOURCE[0]}" "$E2E_DIR/scripts/debian-rootfs.sh" "$E2E_DIR/internal/nodeimage/component.go" "$POD_SUBNET" "$PAUSE_IMAGE")
	local ref="fedtoken.local/kind-node:$KUBERNETES_VERSION-${key:0:12}"
	local out="$CACHE/kind-node-$KUBERNETES_VERSION"
	mkdir -p "$out"
	if docker image inspect "$ref" >/dev/null 2>&1; then
		log "node image $ref: present"
		echo "$ref" >"$out/image"
		echo "$ref"
		return
	fi
	local start=$SECONDS tmp="$CACHE/.tmp-kind-node"
	rm -rf "$tmp"
	mkdir -p "$tmp/root"
	tar --numeric-owner --xattrs -C "$tmp/root" -xf "$tar"
	local r="$tmp/root"
	install -m 0755 "$kube/kubelet" "$kube/kubectl" "$kubeadm" "$r/usr/bin/"
	install -m 0755 "$crictl" "$NODE_DIR/entrypoint" "$NODE_DIR/fedtoken-preload-images" "$NODE_DIR/fedtoken-kubelet-cgroups" "$r/usr/local/bin/"
	install -m 0644 "$NODE_DIR/crictl.yaml" "$r/etc/crictl.yaml"
	mkdir -p "$r/etc/containerd" "$r/etc/cni/net.d" "$r/etc/systemd/system/kubelet.service.d" "$r/kind/images" "$r/etc/systemd/system/multi-user.target.wants"
	sed "s|@PAUSE_IMAGE@|$PAUSE_IMAGE|" "$NODE_DIR/containerd-config.toml" >"$r/etc/containerd/config.toml"
	sed "s|@POD_SUBNET@|$POD_SUBNET|" "$NODE_DIR/10-fedtoken-bridge.conflist" >"$r/etc/cni/net.d/10-fedtoken-bridge.conflist"
	install -m 0644 "$NODE_DIR/kubelet.service" "$NODE_DIR/fedtoken-preload-images.service" "$r/etc/systemd/system/"
	install -m 0644 "$NODE_DIR/10-kubeadm.conf" "$r/etc/systemd/system/kubelet.service.d/"
	for u in kubelet containerd fedtoken-preload-images; do
		local unit="/etc/systemd/system/$u.service"
		[[ -f $r$unit ]] || unit="/lib/systemd/system/$u.service"
		ln -sf "$unit" "$r/etc/systemd/system/multi-user.target.wants/$u.service"
	done
	# Units a container has no use for.
	for u in getty.target systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service systemd-remount-fs.service apt-daily.timer apt-daily-upgrade.timer; do
		ln -sf /dev/null "$r/etc/systemd/system/$u"
	done
	echo "$KUBERNETES_VERSION" >"$r/kind/version"
	log "component images (e2e/cmd/nodeimage)"
	(cd "$E2E_DIR" && "$GO" build -o "$tmp/nodeimage" ./cmd/nodeimage)
	for c in kube-apiserver kube-controller-manager kube-scheduler; do
		"$tmp/nodeimage" -binary "$kube/$c" -ref "registry.k8s.io/$c:$KUBERNETES_VERSION" -out "$r/kind/images/$c.tar"
	done
	"$tmp/nodeimage" -binary "$etcd" -ref "registry.k8s.io/etcd:$ETCD_VERSION" -out "$r/kind/images/etcd.tar"
	cp "$pause" "$r/kind/images/pause.tar"
	log "docker import $ref"
	tar --numeric-owner --xattrs -C "$r" -c . | docker import \
		--change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
		--change 'ENV container=docker' \
		--message "fedtoken kind node $KUBERNETES_VERSION" - "$ref" >/dev/null
	rm -rf "$tmp"
	prune_images "$ref"
	echo "$ref" >"$out/image"
	log "node image $ref: built in $((SECONDS - start)) s"
	echo "$ref"
}

main "$@"
