(class_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(record_declaration name: (identifier) @name) @definition.class
(annotation_type_declaration name: (identifier) @name) @definition.interface
(method_declaration name: (identifier) @name) @definition.method
(constructor_declaration name: (identifier) @name) @definition.method

(method_invocation) @reference.call
(object_creation_expression type: (_) @reference.call)
(superclass (_) @reference.inherits)
(super_interfaces (type_list (_) @reference.inherits))
(extends_interfaces (type_list (_) @reference.inherits))
(field_declaration type: (type_identifier) @reference.type)
(formal_parameter type: (type_identifier) @reference.type)
(method_declaration type: (type_identifier) @reference.type)
(generic_type (type_identifier) @reference.type)
(local_variable_declaration type: (type_identifier) @reference.type)

(import_declaration) @import
