"""CCTV detection worker: camera streams to violence and gender models to incidents with evidence."""
