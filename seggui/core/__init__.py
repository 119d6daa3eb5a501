"""The model of the world: class tables, masks, metrics, areas, workspaces, jobs.

numpy and opencv only. No Qt, no torch: everything here runs headless, in the
CLI and in tests, and `import seggui.core` stays cheap.
"""
