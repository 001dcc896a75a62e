// Showcase module for the emitter golden test.
// Second line.
module showcase (
    input wire clk,
    input wire rst,
    input wire signed [7:0] x,
    input wire [3:0] w,
    input wire valid_in,
    output wire signed [5:0] y,
    output wire valid_out
);
    wire signed [11:0] p;  // dense/MatMul
    wire signed [11:0] bias;  // dense/BiasAdd
    wire signed [12:0] acc;  // dense/BiasAdd
    reg signed [12:0] acc_q;  // dense/BiasAdd
    reg valid_d1;
    wire is_neg;  // relu
    wire [2:0] acc_hi;  // origin: verilator lint_off WIDTH
    wire signed [5:0] act;  // act/Sigmoid line2
    wire signed [5:0] zero;
    wire signed [5:0] relu;  // relu
    reg signed [5:0] relu_q;  // relu
    reg valid_d2;

    function [5:0] act_lut;
        input [2:0] act_lut_index;
        begin
            case (act_lut_index)
                3'h0: act_lut = 6'h20;
                3'h1: act_lut = 6'h2c;
                3'h2: act_lut = 6'h38;
                3'h3: act_lut = 6'h0;
                3'h4: act_lut = 6'h8;
                3'h5: act_lut = 6'h14;
                3'h6: act_lut = 6'h1f;
                3'h7: act_lut = 6'h1f;
                default: act_lut = 6'h0;
            endcase
        end
    endfunction

    /* verilator lint_off WIDTH */
    assign p = x * $signed({1'b0, w});
    /* verilator lint_on WIDTH */
    assign bias = 12'hf9c;
    assign acc = {p[11], p} + {bias[11], bias};
    assign is_neg = $signed(acc_q) < $signed({bias[11], bias});
    assign acc_hi = acc_q[12:10];
    assign act = act_lut(acc_hi);
    assign zero = 6'h0;
    assign relu = is_neg ? zero : act;
    assign y = relu_q;
    assign valid_out = valid_d2;

    always @(posedge clk) begin
        acc_q <= acc;
    end

    always @(posedge clk) begin
        if (rst) begin
            valid_d1 <= 1'h0;
            relu_q <= 6'h0;
            valid_d2 <= 1'h0;
        end else begin
            valid_d1 <= valid_in;
            relu_q <= relu;
            valid_d2 <= valid_d1;
        end
    end
endmodule
