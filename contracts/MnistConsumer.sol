// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice The part of the Referee a consumer uses: ask for an inference, read its result.
interface IInferenceRequests {
    function request(bytes32 modelId, bytes calldata input) external payable returns (uint256 requestId);
    function resultOf(uint256 requestId) external view returns (bool isFinal, bool didTrap, bytes memory output);
}

/**
 * @title An example consumer of verified inference: a digit classifier
 * @notice Asks the Referee to run a registered MNIST model on an input (paying the fee), and once
 * an answer has survived its challenge window reads the output and keeps the predicted digit: the
 * argmax of the first 10 output values, little-endian int32 each (the .detml output order,
 * docs/abi.md). Copy it for another model: change the decoding in `settle`.
 */
contract MnistConsumer {
    error NotFinal();
    error NoResult();
    error UnknownRequest();

    event Classifying(uint256 indexed requestId, address indexed requester);
    event Classified(uint256 indexed requestId, uint8 digit);

    IInferenceRequests public immutable referee;
    bytes32 public immutable modelId;
    mapping(uint256 => address) public requesterOf;
    /// The digit of a settled request, plus one (0: not settled yet).
    mapping(uint256 => uint8) public digitPlusOne;

    constructor(IInferenceRequests referee_, bytes32 modelId_) {
        referee = referee_;
        modelId = modelId_;
    }

    /// @notice Request the classification of `input` (the model's packed input); msg.value is the fee.
    function classify(bytes calldata input) external payable returns (uint256 requestId) {
        requestId = referee.request{value: msg.value}(modelId, input);
        requesterOf[requestId] = msg.sender;
        emit Classifying(requestId, msg.sender);
    }

    /// @notice Read the final result of a request made here and keep its digit (NotFinal before).
    function settle(uint256 requestId) external returns (uint8 digit) {
        if (requesterOf[requestId] == address(0)) revert UnknownRequest();
        (bool isFinal, bool didTrap, bytes memory output) = referee.resultOf(requestId);
        if (!isFinal) revert NotFinal();
        if (didTrap || output.length < 40) revert NoResult();
        int256 best = type(int256).min;
        for (uint256 i = 0; i < 10; i++) {
            int256 v = int32(_le32(output, 4 * i));
            if (v > best) (best, digit) = (v, uint8(i));
        }
        digitPlusOne[requestId] = digit + 1;
        emit Classified(requestId, digit);
    }

    /// The little-endian uint32 at `at`.
    function _le32(bytes memory b, uint256 at) private pure returns (uint32) {
        return uint32(uint8(b[at])) | (uint32(uint8(b[at + 1])) << 8) | (uint32(uint8(b[at + 2])) << 16) | (uint32(uint8(b[at + 3])) << 24);
    }
}
