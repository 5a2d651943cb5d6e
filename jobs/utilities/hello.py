"""Rodan's hello-world test jobs: one automatic, one interactive.

They exercise the whole engine path (text in, text out) and the interactive
path (wait for a user, validate the submission, resume) without any image
library.
"""

from rodan.jobs import kit
from rodan.jobs.base import ManualPhaseException, RodanTask, WAITING_FOR_INPUT

TEXT_PORTS = {
    "input_port_types": [kit.port("Text input", ["text/plain"], 0, 1)],
    "output_port_types": [kit.port("Text output", ["text/plain"])],
}


def _greeting(inputs, name="World"):
    """``Hello <name>``, followed by the text input's content when there is one."""
    text = f"Hello {name}"
    for entry in inputs.get("Text input", []):
        with open(entry["resource_path"], encoding="utf-8") as handle:
            text = f"{text} {handle.read()}"
    return text


class HelloWorld(RodanTask):
    name = "Hello World - Python3"
    author = "Rodan team"
    description = 'Writes "Hello World", followed by the text input if one is given.'
    category = "Test"
    settings = kit.settings_schema("Python3")
    input_port_types = TEXT_PORTS["input_port_types"]
    output_port_types = TEXT_PORTS["output_port_types"]

    def run_my_task(self, inputs, settings, outputs):
        kit.write_text(outputs, "Text output", _greeting(inputs))
        return True

    def test_my_task(self, testcase):
        output = testcase.new_available_path()
        self.run_my_task({}, {}, {"Text output": [{"resource_path": output, "resource_type": "text/plain"}]})
        with open(output, encoding="utf-8") as handle:
            testcase.assertEqual(handle.read(), "Hello World")


MAX_NAME_LENGTH = 100


class HelloWorldInteractive(RodanTask):
    name = "Hello World - Interactive"
    author = "Rodan team"
    description = "Asks a user for a name in the browser, then writes a greeting to that name."
    category = "Test"
    interactive = True
    settings = kit.settings_schema("Python3")
    input_port_types = TEXT_PORTS["input_port_types"]
    output_port_types = TEXT_PORTS["output_port_types"]

    def run_my_task(self, inputs, settings, outputs):
        if "@name" not in settings:
            return WAITING_FOR_INPUT()
        kit.write_text(outputs, "Text output", _greeting(inputs, settings["@name"]))
        return True

    def get_my_interface(self, inputs, settings):
        return "templates/hello_interactive.html", {"max_length": MAX_NAME_LENGTH}

    def validate_my_user_input(self, inputs, settings, user_input):
        name = user_input.get("name") if isinstance(user_input, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise ManualPhaseException('Send {"name": "<a name>"}: the name must be a non-empty string.')
        if len(name) > MAX_NAME_LENGTH:
            raise ManualPhaseException(f"The name must be at most {MAX_NAME_LENGTH} characters long.")
        return {"@name": name.strip()}
