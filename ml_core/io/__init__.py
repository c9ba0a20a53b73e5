"""Reading and writing files: photos in and out, atomic writes, where things live, text from others made safe.

Empty on purpose: importing the package loads nothing (torch-free modules stay torch-free)."""
