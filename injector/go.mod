module github.com/fedtoken/fedtoken/injector

go 1.26.0

require (
	github.com/fedtoken/fedtoken/core v0.1.0
	k8s.io/api v0.34.3
	k8s.io/apimachinery v0.34.3
	k8s.io/client-go v0.34.3
)
