"""Who may see and change a project's objects (rodan-compat.md §1, Permissions)."""


def can_view_project(user, project):
    """The creator, admins, workers and superusers see a project and everything in it."""
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser or project.creator_id == user.pk:
        return True
    return project.admins.filter(pk=user.pk).exists() or project.workers.filter(pk=user.pk).exists()
