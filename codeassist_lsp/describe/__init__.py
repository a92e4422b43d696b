"""Descriptions of the workspace's code, written by the local model for keyword search."""
