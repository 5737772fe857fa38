// {{ header }}
{%- if !imports.is_empty() %}
{% for line in imports %}
{{ line }}
{%- endfor %}
{%- endif %}
{%- for block in blocks %}

{{ block }}
{%- endfor %}
