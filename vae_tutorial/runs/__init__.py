"""What a run needs around the maths, shared by the command line and the chapters.

Its folder, claimed and locked for one run (folder.py); the files it may write
(targets.py); the pictures it leaves (pictures.py); the cache of trained models
the chapters and the sweep reuse (cache.py); a sweep over beta (sweep.py);
every test-set number of a trained model (report.py); the process's CPU
settings, made before torch loads (runtime.py). Importing this package
imports nothing heavy.
"""
