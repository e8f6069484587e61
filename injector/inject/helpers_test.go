package inject_test

import (
	"errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func metav1ObjectMeta(ns string, ann map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, GenerateName: "job-", Annotations: ann}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
