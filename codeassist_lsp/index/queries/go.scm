(function_declaration name: (identifier) @name) @definition.function
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @receiver
        (pointer_type (type_identifier) @receiver)
        (generic_type type: (type_identifier) @receiver)
        (pointer_type (generic_type type: (type_identifier) @receiver))
      ]))
  name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface
(type_spec
  name: (type_identifier) @name
  type: (_) @_t
  (#not-match? @_t "^(struct|interface)")) @definition.type
(type_alias name: (type_identifier) @name) @definition.type
(source_file (const_declaration (const_spec name: (identifier) @name) @definition.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @definition.constant))
(method_elem name: (field_identifier) @name) @definition.method

(call_expression function: (_) @reference.call)
(composite_literal type: [(type_identifier) (qualified_type)] @reference.type)
(field_declaration_list
  (field_declaration . type: [(type_identifier) (qualified_type)] @reference.inherits .))
(field_declaration_list
  (field_declaration . type: (pointer_type [(type_identifier) (qualified_type)] @reference.inherits) .))
(interface_type (type_elem [(type_identifier) (qualified_type)] @reference.inherits))
(parameter_declaration type: [(type_identifier) (qualified_type)] @reference.type)
(parameter_declaration type: (pointer_type [(type_identifier) (qualified_type)] @reference.type))

(import_declaration) @import
