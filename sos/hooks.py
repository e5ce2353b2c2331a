"""The moments an SOS announces to the apps above it (cameras, contacts, privacy), which register at ready().

Each hook is fired by this app (services inside their transaction; the detail view for a read) and the
apps that react import this module, never the other way round. See common/hooks.py.
"""

from common.hooks import Hook

sos_raised = Hook("sos.raised", """An SOS was raised (not a replayed one): fire(sos=, raised_because=).
`raised_because` completes "<her name> ... at 14:05" for the people told about it (her trusted contacts).""")

sos_positioned = Hook("sos.positioned", """An SOS has a new position, at its raise or a newer point:
fire(sos=, latitude=, longitude=, accuracy_m=, now=). The cameras app links the cameras covering it.""")

sos_trail_read = Hook("sos.trail_read", """Someone read an SOS's trail over the API: fire(sos_id=, actor=,
ip_address=). The privacy app records it in the view audit; an exception refuses the read.""")

sos_detail_extras = Hook("sos.detail_extras", """An SOS's detail is about to be answered: fire(request=, sos=)
returns dicts of fields to add to it (the privacy app adds the view audit for supervisors).""")

sos_photo_viewed = Hook("sos.photo_viewed", """A citizen's photo on an SOS is about to be handed out:
fire(sos_id=, photo_id=, actor=, ip_address=) inside the download's transaction. The privacy app records the
look in the view audit; a look that cannot be recorded is not handed out (the receiver's error is the view's).""")
