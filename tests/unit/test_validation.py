"""Workflow validation: Rodan's error codes, in Rodan's order (rodan-compat.md §2.7)."""

import pytest

from rodan.engine.validation import WorkflowInvalid, settings_errors, validate_workflow
from rodan.models import InputPort, OutputPort, Workflow

STEP = "Test - Text step"
JOIN = "Test - Join texts"
HELLO = "Hello World - Python3"
LABELER = "Labeler"
GREY = "To greyscale PNG"


def invalid(workflow):
    """The error code validation raises; the workflow must stay invalid."""
    with pytest.raises(WorkflowInvalid) as caught:
        validate_workflow(workflow)
    assert not Workflow.objects.get(pk=workflow.pk).valid
    assert caught.value.details and caught.value.error_code in str(caught.value)
    return caught.value


# -- 1. each WorkflowJob -----------------------------------------------------


def test_job_without_output_ports_is_wfj_no_op(wfb):
    wfj = wfb.job(STEP, outputs=[])
    error = invalid(wfb.workflow)
    assert error.error_code == "WFJ_NO_OP"
    assert error.associated_objects["workflowjobs"] == [wfj]


def test_labeler_is_exempt_from_wfj_no_op(wfb):
    wfj = wfb.job(LABELER, {"Label": "done"})
    assert not wfj.output_ports.exists()
    validate_workflow(wfb.workflow)
    assert Workflow.objects.get(pk=wfb.workflow.pk).valid


def test_too_few_input_ports(wfb):
    wfb.job(STEP, inputs=[])
    assert invalid(wfb.workflow).error_code == "WFJ_TOO_FEW_IP"


def test_too_many_input_ports(wfb):
    wfb.job(STEP, inputs=["Text input", "Text input"])
    error = invalid(wfb.workflow)
    assert error.error_code == "WFJ_TOO_MANY_IP"
    assert [t.name for t in error.associated_objects["inputporttypes"]] == ["Text input"]


def test_optional_input_port_may_be_absent_but_not_doubled(wfb, new_wfb):
    wfb.job(HELLO, inputs=[])  # minimum 0
    validate_workflow(wfb.workflow)
    other = new_wfb(wfb.project)
    other.job(HELLO, inputs=["Text input", "Text input"])  # maximum 1
    assert invalid(other.workflow).error_code == "WFJ_TOO_MANY_IP"


def test_too_few_output_ports_of_a_type(wfb):
    # An output port exists (so not WFJ_NO_OP), but of a foreign type: none of the job's own.
    wfj = wfb.job(STEP, outputs=[])
    wfb.outport(wfj, "Greyscale PNG image", job_name=GREY)
    assert invalid(wfb.workflow).error_code == "WFJ_TOO_FEW_OP"


def test_too_many_output_ports(wfb):
    wfb.job(STEP, outputs=["Text output"] * 3)  # maximum 2
    error = invalid(wfb.workflow)
    assert error.error_code == "WFJ_TOO_MANY_OP"
    assert [t.name for t in error.associated_objects["outputporttypes"]] == ["Text output"]


def test_maximum_zero_means_unbounded(wfb):
    # Labeler's input port type allows 100; check an unbounded type directly through the row.
    wfj = wfb.job(LABELER, {"Label": "x"}, inputs=["Resource"] * 3)
    port_type = wfj.job.input_port_types.get()
    original = port_type.maximum
    port_type.maximum = 0
    port_type.save()
    try:
        for _ in range(98):  # 101 ports: above the declared maximum of 100
            wfb.inport(wfj, "Resource")
        validate_workflow(wfb.workflow)
    finally:
        port_type.maximum = original
        port_type.save()


def test_invalid_settings(wfb):
    wfb.job(STEP, {"Sleep": -1})
    error = invalid(wfb.workflow)
    assert error.error_code == "WFJ_INVALID_SETTINGS"
    assert "-1" in error.details[0]


def test_missing_required_setting_is_invalid(wfb):
    wfb.job(LABELER, {})
    assert invalid(wfb.workflow).error_code == "WFJ_INVALID_SETTINGS"


def test_enum_setting_outside_its_values_is_invalid(wfb):
    wfb.job(STEP, {"Mode": "lower"})
    assert invalid(wfb.workflow).error_code == "WFJ_INVALID_SETTINGS"


def test_settings_errors_helper():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    assert settings_errors(schema, {"n": 3}) == []
    assert settings_errors(schema, {"n": "3"}) and settings_errors(schema, {})
    assert settings_errors({}, {"anything": 1}) == []
    assert settings_errors(None, {"anything": 1}) == []


# -- 2. input ports ----------------------------------------------------------


def test_input_port_of_another_jobs_type_is_ip_type_mismatch(wfb):
    wfj = wfb.job(HELLO, inputs=[])  # needs no input of its own type
    port = wfb.inport(wfj, "Text input", job_name=STEP)
    error = invalid(wfb.workflow)
    assert error.error_code == "IP_TYPE_MISMATCH"
    assert error.associated_objects["inputports"] == [port]


def test_input_port_with_two_connections(wfb):
    first, second, target = wfb.job(STEP), wfb.job(STEP), wfb.job(STEP)
    port = target.input_ports.get()
    wfb.connect(first, port)
    wfb.connect(second, port)
    error = invalid(wfb.workflow)
    assert error.error_code == "IP_TOO_MANY_CONNECTIONS"
    assert error.associated_objects["inputports"] == [port]


# -- 3. output ports ---------------------------------------------------------


def test_output_port_of_another_jobs_type_is_op_type_mismatch(wfb):
    wfj = wfb.job(STEP)
    port = wfb.outport(wfj, "Text output", job_name=HELLO)
    error = invalid(wfb.workflow)
    assert error.error_code == "OP_TYPE_MISMATCH"
    assert error.associated_objects["outputports"] == [port]


def test_plain_output_into_list_input_is_a_list_conflict(wfb):
    step, join = wfb.job(STEP), wfb.job(JOIN)
    connection = wfb.connect(step, join)
    error = invalid(wfb.workflow)
    assert error.error_code == "RESOURCETYPE_LIST_CONFLICT"
    assert error.associated_objects["connections"] == [connection]


def test_no_common_resource_type(wfb):
    grey, step = wfb.job(GREY), wfb.job(STEP)
    wfb.connect(grey, step)  # image/greyscale+png into text/plain
    error = invalid(wfb.workflow)
    assert error.error_code == "NO_COMMON_RESOURCETYPE"
    assert error.associated_objects["outputports"] == [grey.output_ports.get()]


def test_common_type_must_be_shared_with_every_connected_input(wfb):
    # Text output feeds both a text step (text/plain) and a greyscale conversion (images).
    source, text_target, image_target = wfb.job(STEP), wfb.job(STEP), wfb.job(GREY)
    out = source.output_ports.get()
    wfb.connect(out, text_target.input_ports.get())
    wfb.connect(out, image_target.input_ports.get())
    assert invalid(wfb.workflow).error_code == "NO_COMMON_RESOURCETYPE"


# -- 4. the graph ------------------------------------------------------------


def test_empty_workflow(wfb):
    assert invalid(wfb.workflow).error_code == "WF_EMPTY"


def test_cycle(wfb):
    first, second = wfb.job(STEP), wfb.job(STEP)
    wfb.connect(first, second)
    wfb.connect(second, first)
    assert invalid(wfb.workflow).error_code == "WF_HAS_CYCLES"


def test_self_loop_is_a_cycle(wfb):
    wfj = wfb.job(STEP)
    wfb.connect(wfj, wfj)
    assert invalid(wfb.workflow).error_code == "WF_HAS_CYCLES"


def test_cycle_further_down_a_chain(wfb):
    # a -> b -> c, and c's second output back into a: the cycle does not include the first job only.
    source = wfb.job(STEP)
    a, b = wfb.job(STEP), wfb.job(STEP)
    c = wfb.job(STEP, outputs=["Text output", "Text output"])
    joint = wfb.job(LABELER, {"Label": "x"}, inputs=["Resource", "Resource"])
    first_out, second_out = c.output_ports.order_by("uuid")
    labeler_in = list(joint.input_ports.order_by("uuid"))
    wfb.connect(source, labeler_in[0])
    wfb.connect(first_out, labeler_in[1])
    wfb.connect(a, b)
    wfb.connect(b, c)
    wfb.connect(second_out, a.input_ports.get())
    assert invalid(wfb.workflow).error_code == "WF_HAS_CYCLES"


def test_two_unconnected_jobs(wfb):
    wfb.job(STEP)
    wfb.job(STEP)
    assert invalid(wfb.workflow).error_code == "WF_NOT_CONNECTED"


def test_two_separate_chains(wfb):
    wfb.chain(2)
    wfb.chain(3)
    assert invalid(wfb.workflow).error_code == "WF_NOT_CONNECTED"


def test_weak_connectivity_is_enough(wfb):
    # Two sources feed one sink: not strongly connected, but one weakly connected graph.
    a, b = wfb.job(STEP), wfb.job(STEP)
    sink = wfb.job(LABELER, {"Label": "x"}, inputs=["Resource", "Resource"])
    ports = list(sink.input_ports.order_by("uuid"))
    wfb.connect(a, ports[0])
    wfb.connect(b, ports[1])
    validate_workflow(wfb.workflow)


# -- order of the checks -------------------------------------------------------


def test_job_checks_come_before_port_checks(wfb):
    first, second = wfb.job(STEP), wfb.job(STEP, {"Sleep": -5})
    wfb.connect(first, second.input_ports.get())
    third = wfb.job(STEP)
    wfb.connect(first.output_ports.get(), third.input_ports.get())
    wfb.connect(second.output_ports.get(), third.input_ports.get())  # IP_TOO_MANY_CONNECTIONS too
    wfb.outport(first, "Text output", job_name=HELLO)  # OP_TYPE_MISMATCH too
    assert invalid(wfb.workflow).error_code == "WFJ_INVALID_SETTINGS"


def test_no_op_comes_before_port_counts_and_settings(wfb):
    wfb.job(STEP, {"Sleep": -1}, inputs=[], outputs=[])
    assert invalid(wfb.workflow).error_code == "WFJ_NO_OP"


def test_input_counts_come_before_output_counts_and_settings(wfb):
    wfb.job(STEP, {"Sleep": -1}, inputs=[], outputs=["Text output"] * 3)
    assert invalid(wfb.workflow).error_code == "WFJ_TOO_FEW_IP"


def test_input_port_checks_come_before_output_port_checks(wfb):
    wfj = wfb.job(STEP)
    wfb.outport(wfj, "Text output", job_name=HELLO)  # OP_TYPE_MISMATCH
    other = wfb.job(HELLO, inputs=[])
    wfb.inport(other, "Text input", job_name=STEP)  # IP_TYPE_MISMATCH
    assert invalid(wfb.workflow).error_code == "IP_TYPE_MISMATCH"


def test_port_checks_come_before_graph_checks(wfb):
    grey, step = wfb.job(GREY), wfb.job(STEP)
    wfb.connect(grey, step)
    wfb.job(STEP)  # not connected either
    assert invalid(wfb.workflow).error_code == "NO_COMMON_RESOURCETYPE"


def test_cycle_reported_before_disconnection(wfb):
    a, b = wfb.job(STEP), wfb.job(STEP)
    wfb.connect(a, b)
    wfb.connect(b, a)
    wfb.job(STEP)
    assert invalid(wfb.workflow).error_code == "WF_HAS_CYCLES"


# -- success ---------------------------------------------------------------


def test_success_marks_valid_and_recomputes_extern(wfb):
    a, b, c = wfb.chain(3)
    extra_out = wfb.outport(c, "Text output")
    # Start from wrong flags: connected ports extern, open ports not.
    InputPort.objects.filter(workflow_job__workflow=wfb.workflow).update(extern=True)
    OutputPort.objects.filter(workflow_job__workflow=wfb.workflow).update(extern=True)
    InputPort.objects.filter(pk=a.input_ports.get().pk).update(extern=False)
    OutputPort.objects.filter(pk=extra_out.pk).update(extern=False)

    returned = validate_workflow(wfb.workflow)

    assert returned.valid and Workflow.objects.get(pk=wfb.workflow.pk).valid
    extern_inputs = set(InputPort.objects.filter(workflow_job__workflow=wfb.workflow, extern=True))
    extern_outputs = set(OutputPort.objects.filter(workflow_job__workflow=wfb.workflow, extern=True))
    assert extern_inputs == {a.input_ports.get()}
    assert extern_outputs == set(c.output_ports.all()) and len(extern_outputs) == 2
    assert not InputPort.objects.get(pk=b.input_ports.get().pk).extern
    assert not OutputPort.objects.get(pk=a.output_ports.get().pk).extern


def test_output_port_feeding_two_inputs_is_not_extern(wfb):
    source, left, right = wfb.job(STEP), wfb.job(STEP), wfb.job(STEP)
    out = source.output_ports.get()
    wfb.connect(out, left.input_ports.get())
    wfb.connect(out, right.input_ports.get())
    validate_workflow(wfb.workflow)
    assert not OutputPort.objects.get(pk=out.pk).extern
    assert OutputPort.objects.filter(workflow_job__workflow=wfb.workflow, extern=True).count() == 2
    assert list(InputPort.objects.filter(workflow_job__workflow=wfb.workflow, extern=True)) == [
        source.input_ports.get()
    ]


def test_failed_validation_leaves_extern_untouched(wfb):
    a, b = wfb.chain(2)
    wfb.job(STEP)  # disconnected
    InputPort.objects.filter(workflow_job__workflow=wfb.workflow).update(extern=True)
    invalid(wfb.workflow)
    assert InputPort.objects.filter(workflow_job__workflow=wfb.workflow, extern=False).count() == 0


def test_open_list_input_with_plain_output_into_plain_input_is_valid(wfb):
    # Join texts takes a list and writes one text: its list input stays open, its output feeds a text step.
    join, step = wfb.job(JOIN), wfb.job(STEP)
    wfb.connect(join, step)
    validate_workflow(wfb.workflow)
    assert InputPort.objects.get(workflow_job=join).extern


def test_connection_from_a_job_of_another_workflow_is_reported(wfb, new_wfb):
    a, b = wfb.chain(2)
    other = new_wfb(wfb.project)
    b.workflow = other.workflow  # the API allows changing a job's workflow (rodan-compat.md §2.7)
    b.save()
    with pytest.raises(WorkflowInvalid):
        validate_workflow(other.workflow)


def test_unknown_setting_name_is_reported_with_the_known_names(wfb):
    (step,) = wfb.chain(1)
    step.job_settings = {**step.job_settings, "tag": "misspelt"}
    step.save()
    with pytest.raises(WorkflowInvalid) as caught:
        validate_workflow(wfb.workflow)
    assert caught.value.error_code == "WFJ_INVALID_SETTINGS"
    assert "Unknown setting 'tag'" in caught.value.details[0] and "'Tag'" in caught.value.details[0]
