"""Helpers that set up what the Pulumi program needs: toolchain, images, cluster."""
