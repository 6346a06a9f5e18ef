// The create form: at most three topics, the schedule field only when scheduling, and the
// browser's time zone so that a scheduled time means what the host read on their clock.
const form = document.querySelector(".create-space");
const topics = [...form.querySelectorAll('input[name="topics"]')];
const when = [...form.querySelectorAll('input[name="when"]')];
const startsAt = form.querySelector('input[name="starts_at"]');
const submit = form.querySelector(".create-submit");

function limitTopics() {
  const full = topics.filter((t) => t.checked).length >= 3;
  for (const topic of topics) topic.disabled = full && !topic.checked;
}

function showWhen() {
  const later = form.querySelector('input[name="when"]:checked').value === "later";
  form.querySelector(".starts-at").hidden = !later;
  startsAt.required = later;
  submit.textContent = later ? "Schedule Space" : "Start your Space";
  if (later && !startsAt.value) {
    const soon = new Date(Date.now() + 3600_000 - new Date().getTimezoneOffset() * 60_000);
    startsAt.value = soon.toISOString().slice(0, 16);
  }
}

topics.forEach((t) => t.addEventListener("change", limitTopics));
when.forEach((w) => w.addEventListener("change", showWhen));
form.addEventListener("submit", () => {
  const local = startsAt.value ? new Date(startsAt.value) : new Date();
  form.querySelector('input[name="utc_offset_minutes"]').value = String(local.getTimezoneOffset());
});
limitTopics();
showWhen();
