// Signing in is the shift's first gesture, so it is where the page asks for what an alert needs: notifications
// (the permission prompt needs a gesture) and sound (a gesture on this origin lets the dashboard, opened next by
// a same-origin navigation, start its audio without another click). The form is then sent as usual.

const form = document.querySelector("form[data-sign-in]");

function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    const context = new Context();
    context.resume().catch(() => {});
  } catch {
    // No audio on this device: the dashboard says so and offers its button.
  }
}

async function askForNotifications() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  // The prompt may wait for an answer; signing in waits at most this long for it.
  const answered = Notification.requestPermission().catch(() => "denied");
  await Promise.race([answered, new Promise((resolve) => setTimeout(resolve, 15000))]);
}

form?.addEventListener("submit", async (event) => {
  if (form.dataset.asked === "true") return;
  event.preventDefault();
  form.dataset.asked = "true";
  unlockAudio();
  await askForNotifications();
  form.submit();
});
