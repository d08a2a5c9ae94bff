"""Test-only QIIME 2 plugin: integer lists, split-apply-combine Pipelines,
and steps that record where and when they ran, fail, or kill their worker."""
