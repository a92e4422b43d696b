; TypeScript additions.
(abstract_class_declaration name: (_) @name) @definition.class
(interface_declaration name: (_) @name) @definition.interface
(type_alias_declaration name: (_) @name) @definition.type
(enum_declaration name: (_) @name) @definition.enum
(internal_module name: (_) @name) @definition.namespace
(public_field_definition
  name: (_) @name
  value: [(arrow_function) (function_expression)]) @definition.method
(abstract_method_signature name: (_) @name) @definition.method
(method_signature name: (_) @name) @definition.method
(function_signature name: (_) @name) @definition.function

(class_heritage (extends_clause value: (_) @reference.inherits))
(implements_clause (_) @reference.inherits)
(extends_type_clause type: (_) @reference.inherits)
(type_annotation [(type_identifier) (nested_type_identifier)] @reference.type)
(union_type [(type_identifier) (nested_type_identifier)] @reference.type)
(intersection_type [(type_identifier) (nested_type_identifier)] @reference.type)
(array_type [(type_identifier) (nested_type_identifier)] @reference.type)
(tuple_type [(type_identifier) (nested_type_identifier)] @reference.type)
(type_alias_declaration value: [(type_identifier) (nested_type_identifier)] @reference.type)
(generic_type name: (type_identifier) @reference.type)
(type_arguments (type_identifier) @reference.type)
