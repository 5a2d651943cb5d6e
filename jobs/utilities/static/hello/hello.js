// Posts the name to the working URL (this page's own URL) as JSON.
document.getElementById("hello-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = document.getElementById("message");
  const response = await fetch(window.location.pathname, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: document.getElementById("name").value }),
  });
  if (response.ok) {
    message.className = "";
    message.textContent = "Submitted. The job will now finish.";
    document.getElementById("submit").disabled = true;
  } else {
    const body = await response.json().catch(() => ({}));
    message.className = "error";
    message.textContent = body.detail || body.message || `Error ${response.status}`;
  }
});
