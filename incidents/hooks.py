"""The moments an incident announces to the apps above it (cameras, privacy), which register at ready().

Each hook is fired by this app (services inside their transaction; the detail view for a read) and the
apps that react import this module, never the other way round. See common/hooks.py.
"""

from common.hooks import Hook

camera_incident_reported = Hook("incidents.camera_incident_reported", """A violence or scream report from a
camera device made or grew an incident: fire(incident=, device=, camera_id=, now=) inside the report's
transaction. The cameras app joins it to the open SOS its camera is linked to; each receiver returns the
SOS it attached the incident to (a list), so a non-empty answer means the incident's priority changed.""")

incident_detail_extras = Hook("incidents.detail_extras", """An incident's detail is about to be answered:
fire(request=, incident=) returns dicts of fields to add to it (the privacy app adds the view audit for supervisors).""")

alert_image_redacted = Hook("incidents.alert_image_redacted", """An alert email is about to carry an evidence
image: fire(image=) returns the PNG bytes to attach, faces blurred (the privacy app makes or reuses the derivative
responders see). With no receiver nothing is attached: an original never leaves by email.""")

alert_image_emailed = Hook("incidents.alert_image_emailed", """An alert email that carried an evidence image was
accepted by the mail server: fire(image=, recipient=). The privacy app records it in the view audit.""")
