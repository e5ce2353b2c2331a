"""NaariKavach: citizen SOS, police response and CCTV analytics on one platform."""
