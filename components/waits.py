"""Every wait of the engine on the cluster is bounded.

The Kubernetes provider waits for a Pod to be Ready (and for an object to be gone) for up to
ten minutes by default, and a Pod on a node whose kubelet died, or whose image the node does not
have, never gets there: `up` then hangs with "Waiting for Pod to be ready". A stack
transformation gives every resource the same `customTimeouts`, so such a wait fails after
`readyTimeoutSeconds` and the stack seam explains why (tools/stuck_pods.py).
"""
from __future__ import annotations

import pulumi


def bound_every_wait(seconds: int) -> None:
    """Register the transformation for the resources the program makes after this call."""
    limit = f"{seconds}s"
    timeouts = pulumi.CustomTimeouts(create=limit, update=limit, delete=limit)

    def bounded(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(custom_timeouts=timeouts)))

    pulumi.runtime.register_stack_transformation(bounded)
