"""The nianbao application: the CLI, the embedded (one-process) pipeline and the worker launcher.

This is the one place that composes the services; the services themselves never import each other.
"""
