// Module etcd is a build wrapper: e2e/scripts/install-peers.sh builds the etcd
// server (main package at the module root) from it. It is not part of go.work.
module fedtoken.e2e/peers/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 v3.6.16
