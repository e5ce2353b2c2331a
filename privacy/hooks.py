"""The moments the privacy app announces to the apps above it (cameras), which register at ready().

See common/hooks.py. The privacy app never imports those apps: they hand it what it needs.
"""

from common.hooks import Hook

sos_bundle_files = Hook("privacy.sos_bundle_files", """An SOS's evidence bundle is being written:
fire(sos=) returns, per receiver, a list of BundleFile (privacy.custody) to add: the original files an app
above keeps for that SOS (the cameras app: pre-roll key frames and clips).""")
