package sim

import "k8s.io/apimachinery/pkg/watch"

type watchInterface = watch.Interface
