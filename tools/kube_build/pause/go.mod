module newstracker.local/kube_build/pause

go 1.24.0
