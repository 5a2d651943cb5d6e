"""The fields of KEDA's ScaledObject and TriggerAuthentication (keda.sh/v1alpha1) that deploy/kubernetes uses.

Written from KEDA's published CRDs (``keda.sh_scaledobjects.yaml``,
``keda.sh_triggerauthentications.yaml``) and the RabbitMQ scaler's documented
parameters: the required fields, the types the CRDs give, and unknown
fields refused where the CRDs list every field, so that a misspelt key
fails here rather than being dropped by the API server. The HPA ``behavior``
under ``advanced`` is Kubernetes's own type: the test checks it with
kubernetes-validate.
"""

INT32 = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 253}
METADATA = {"type": "object", "required": ["name"], "properties": {"name": NAME}}

SCALED_OBJECT = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": METADATA,
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string"},
                        "kind": {"type": "string"},
                        "apiVersion": {"type": "string"},
                        "envSourceContainerName": {"type": "string"},
                    },
                },
                "pollingInterval": INT32,
                "cooldownPeriod": INT32,
                "initialCooldownPeriod": INT32,
                "idleReplicaCount": INT32,
                "minReplicaCount": INT32,
                "maxReplicaCount": INT32,
                "fallback": {
                    "type": "object",
                    "required": ["failureThreshold", "replicas"],
                    "properties": {"failureThreshold": INT32, "replicas": INT32, "behavior": {"type": "string"}},
                },
                "advanced": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "restoreToOriginalReplicaCount": {"type": "boolean"},
                        "horizontalPodAutoscalerConfig": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {"name": {"type": "string"}, "behavior": {"type": "object"}},
                        },
                        "scalingModifiers": {"type": "object"},
                    },
                },
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["type", "metadata"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"type": "string"},
                            "name": {"type": "string"},
                            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                            "useCachedMetrics": {"type": "boolean"},
                            "authenticationRef": {
                                "type": "object",
                                "required": ["name"],
                                "additionalProperties": False,
                                "properties": {
                                    "name": {"type": "string"},
                                    "kind": {"enum": ["TriggerAuthentication", "ClusterTriggerAuthentication"]},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

#: The RabbitMQ scaler's metadata (KEDA's "RabbitMQ Queue" scaler page); ``host`` comes from the TriggerAuthentication.
NUMBER = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}
RABBITMQ_METADATA = {
    "type": "object",
    "required": ["queueName", "mode", "value"],
    "additionalProperties": False,
    "properties": {
        "queueName": {"type": "string", "minLength": 1},
        "mode": {"enum": ["QueueLength", "MessageRate"]},
        "value": NUMBER,
        "activationValue": NUMBER,
        "protocol": {"enum": ["auto", "amqp", "http"]},
        "vhostName": {"type": "string"},
        "host": {"type": "string"},
        "hostFromEnv": {"type": "string"},
        "useRegex": {"enum": ["true", "false"]},
        "excludeUnacknowledged": {"enum": ["true", "false"]},
        "timeout": NUMBER,
        "unsafeSsl": {"enum": ["true", "false"]},
    },
}

TRIGGER_AUTHENTICATION = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "TriggerAuthentication"},
        "metadata": METADATA,
        "spec": {
            "type": "object",
            "minProperties": 1,
            "properties": {
                "secretTargetRef": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["parameter", "name", "key"],
                        "additionalProperties": False,
                        "properties": {"parameter": {"type": "string"}, "name": NAME, "key": {"type": "string"}},
                    },
                },
                "env": {"type": "array"},
                "hashiCorpVault": {"type": "object"},
                "podIdentity": {"type": "object"},
            },
        },
    },
}

SCHEMAS = {"ScaledObject": SCALED_OBJECT, "TriggerAuthentication": TRIGGER_AUTHENTICATION}
