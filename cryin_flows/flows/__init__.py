"""Flow makers composing the stage makers into workflows."""
